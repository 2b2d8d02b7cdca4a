#!/usr/bin/env bash
# Guided deployment of the reconciler: checks what the deployment needs, creates the GitHub
# webhook secret when it is missing, runs `sam build` and `sam deploy --guided`, then prints the
# webhook URL and how to register it with GitHub. Safe to run again: the secret is kept, and sam
# shows the change set before anything changes.
#
# Environment (all optional):
#   AWS_REGION / AWS_DEFAULT_REGION  region to deploy to (else the AWS CLI's configured region)
#   WEBHOOK_SECRET_NAME              Secrets Manager secret name (default reconciler/webhook)
set -euo pipefail

cd "$(dirname "$0")/.."

die() {
  printf 'deploy: %s\n' "$*" >&2
  exit 1
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed; $2"
}

# --- prerequisites -------------------------------------------------------------------------
need aws "see https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
need sam "see https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"
need openssl "it generates the webhook secret"

build_args=()
if command -v python3.12 >/dev/null 2>&1; then
  echo "deploy: building with the local python3.12"
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  echo "deploy: python3.12 not found; building in a container (sam build --use-container)"
  build_args+=(--use-container)
else
  die "sam build needs python3.12 on PATH (the functions' runtime) or a running Docker engine"
fi

[[ -f requirements.txt ]] ||
  die "requirements.txt is missing at the repository root: sam build would package the functions without their dependencies"

# --- credentials and region ----------------------------------------------------------------
account=$(aws sts get-caller-identity --query Account --output text 2>/dev/null) ||
  die "no usable AWS credentials (aws sts get-caller-identity failed); set AWS_PROFILE or log in with 'aws sso login'"

region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region 2>/dev/null || true)}}
[[ -n "$region" ]] || die "no region: set AWS_REGION, or run 'aws configure set region REGION'"
export AWS_REGION="$region"
echo "deploy: account $account, region $region"

# --- webhook secret ------------------------------------------------------------------------
secret_name=${WEBHOOK_SECRET_NAME:-reconciler/webhook}
if aws secretsmanager describe-secret --secret-id "$secret_name" >/dev/null 2>&1; then
  echo "deploy: webhook secret '$secret_name' exists; keeping it"
else
  echo "deploy: creating webhook secret '$secret_name'"
  secret_file=$(mktemp)
  trap 'rm -f "$secret_file"' EXIT
  chmod 600 "$secret_file"
  # No trailing newline: GitHub signs with exactly the characters pasted into its form.
  openssl rand -hex 32 | tr -d '\n' >"$secret_file"
  aws secretsmanager create-secret \
    --name "$secret_name" \
    --description "GitHub webhook secret of the reconciler (X-Hub-Signature-256)" \
    --secret-string "file://$secret_file" \
    --query ARN --output text >/dev/null
  rm -f "$secret_file"
fi

# --- build and deploy ----------------------------------------------------------------------
sam build ${build_args[@]+"${build_args[@]}"}
echo
echo "deploy: answer the prompts; keep the region '$region' (the webhook secret lives there)"
sam deploy --guided --region "$region" --parameter-overrides "WebhookSecretName=$secret_name"

# `sam deploy --guided` saves the stack name it was given into samconfig.toml.
stack_name=$(sed -n 's/^stack_name *= *"\(.*\)"/\1/p' samconfig.toml | tail -n 1)
stack_name=${stack_name:-reconciler}

output() {
  aws cloudformation describe-stacks --stack-name "$stack_name" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
webhook_url=$(output WebhookUrl)
state_machine=$(output StateMachineArn)

cat <<EOF

The reconciler is deployed (stack $stack_name).
  State machine: $state_machine

Connect GitHub (repository Settings -> Webhooks -> Add webhook):
  Payload URL:   $webhook_url
  Content type:  application/json
  Secret:        the value of the Secrets Manager secret '$secret_name'; print it with
                   aws secretsmanager get-secret-value --region $region --secret-id '$secret_name' --query SecretString --output text
  Events:        Just the push event

Try a run by hand:
  aws stepfunctions start-execution --region $region --state-machine-arn '$state_machine' \\
    --input '{"environment": "dev", "trigger": "manual", "revision": null, "mode": null}'
EOF
