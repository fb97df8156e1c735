//! Which invoker runs a Task resource: Lambda resources go to the Lambda
//! invoker, DynamoDB resources to the DynamoDB one, everything else (and a
//! service with no invoker configured) to the fallback — `NoInvoker` or
//! `ParkingInvoker`, which fail or park the task saying why.

use asl::resource::Resource;
use engine::{ExecutionInfo, TaskOutcome, TaskRequest};
use runtime::TaskInvoker;

use crate::dynamodb_invoker::{self, DynamoTaskInvoker};

/// Routes each task attempt to the invoker of its service.
pub struct TaskRouter<L, F> {
    lambda: Option<L>,
    dynamodb: Option<DynamoTaskInvoker>,
    fallback: F,
}

/// Whether a resource is a Lambda invocation (a function ARN or `lambda:invoke`).
pub fn is_lambda(resource: &Resource) -> bool {
    match resource {
        Resource::LambdaFunction { .. } => true,
        Resource::Integration { service, action, .. } => service == "lambda" && action == "invoke",
    }
}

/// Whether `resource` starts a nested execution (`arn:aws:states:::states:startExecution`,
/// any pattern): run by `api::NestedInvoker`, which wraps this router.
pub fn is_nested_execution(resource: &Resource) -> bool {
    resource.is_integration("states", "startExecution")
}

/// Whether a deployed stepper runs `resource` (Lambda and DynamoDB resources, nested executions).
pub fn supports(resource: &Resource) -> bool {
    is_lambda(resource) || dynamodb_invoker::handles(resource) || is_nested_execution(resource)
}

/// [`supports`], in words.
pub const SUPPORTED: &str = "Lambda functions: a function ARN or arn:aws:states:::lambda:invoke[.waitForTaskToken]; \
DynamoDB: arn:aws:states:::dynamodb:getItem|putItem|updateItem|deleteItem and \
arn:aws:states:::aws-sdk:dynamodb:getItem|putItem|updateItem|deleteItem|query|scan; \
nested executions: arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]";

/// What `switchyard serve` runs: the deployed resources, and any
/// `.waitForTaskToken` task, which it parks for a callback.
pub fn serve_supports(resource: &Resource) -> bool {
    supports(resource) || resource.pattern() == asl::resource::Pattern::WaitForTaskToken
}

/// [`serve_supports`], in words.
pub const SERVE_SUPPORTED: &str = "Lambda functions: a function ARN or arn:aws:states:::lambda:invoke; \
DynamoDB: arn:aws:states:::dynamodb:getItem|putItem|updateItem|deleteItem and \
arn:aws:states:::aws-sdk:dynamodb:getItem|putItem|updateItem|deleteItem|query|scan; \
nested executions: arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]; \
any other .waitForTaskToken task (parked for its callback)";

impl<L: TaskInvoker, F: TaskInvoker> TaskRouter<L, F> {
    /// A router with these invokers (`None`: that service goes to `fallback`).
    pub fn new(lambda: Option<L>, dynamodb: Option<DynamoTaskInvoker>, fallback: F) -> Self {
        TaskRouter { lambda, dynamodb, fallback }
    }
}

impl<L: TaskInvoker, F: TaskInvoker> TaskInvoker for TaskRouter<L, F> {
    async fn invoke(&self, execution: &ExecutionInfo, request: &TaskRequest) -> TaskOutcome {
        if is_lambda(&request.resource)
            && let Some(lambda) = &self.lambda
        {
            return lambda.invoke(execution, request).await;
        }
        if dynamodb_invoker::handles(&request.resource)
            && let Some(dynamodb) = &self.dynamodb
        {
            return dynamodb.invoke(execution, request).await;
        }
        self.fallback.invoke(execution, request).await
    }
}
