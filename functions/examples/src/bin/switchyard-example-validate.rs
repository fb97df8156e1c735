//! `switchyard-example-validate`: checks an order and prices it (errorType `InvalidOrder` for an order it cannot accept).
//! The logic is [`example_functions::validate`]; this is the Lambda wiring.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    example_functions::serve(example_functions::validate).await
}
