# The AWS CLI plugin of docs/deploy.md ("Calling the deployed API"), word for
# word: it makes `aws stepfunctions` (and a boto3 client it is registered on)
# sign for API Gateway's `execute-api` instead of `states`. The API tests use
# it against the local stack (scripts/stack-local.sh), which checks the
# signature as API Gateway's IAM auth does; tests/local_stack checks that the
# documentation still shows this code.
def _sign_for_execute_api(request, **kwargs):
    request.context.setdefault("signing", {})["signing_name"] = "execute-api"

def awscli_initialize(cli):
    cli.register("before-sign.sfn", _sign_for_execute_api)
