//! `switchyard-example-refund`: refunds the charge made under an idempotency key (idempotent, always succeeds).
//! The logic is [`example_functions::refund`]; this is the Lambda wiring.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    example_functions::serve(example_functions::refund).await
}
