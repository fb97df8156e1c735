//! `switchyard-example-reserve-inventory`: reserves the order's items (errorType `OutOfStock` past the stock per line), or releases the reservation with `"release": true`.
//! The logic is [`example_functions::reserve_inventory`]; this is the Lambda wiring.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    example_functions::serve(example_functions::reserve_inventory).await
}
