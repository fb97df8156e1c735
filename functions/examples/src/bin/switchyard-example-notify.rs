//! `switchyard-example-notify`: sends the customer a message and returns its id.
//! The logic is [`example_functions::notify`]; this is the Lambda wiring.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    example_functions::serve(example_functions::notify).await
}
