//! `switchyard-example-charge`: charges the order's total (errorType `PaymentDeclined` over the card limit, `PaymentGatewayTimeout` once for a slow-gateway order).
//! The logic is [`example_functions::charge`]; this is the Lambda wiring.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    example_functions::serve(example_functions::charge).await
}
