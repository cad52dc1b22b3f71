# The txsummary Lambda: the AWS Lambda Python base image plus the runtime dependencies and the
# txsummary package. Built for linux/amd64 by the Pulumi program in infra/ (`pulumi up`).
# An exact tag of the base image (Renovate proposes newer ones, see renovate.json): no digest is
# pinned, as none could be checked against a trustworthy source when this was written.
FROM public.ecr.aws/lambda/python:3.12.2026.10.03.13

# Dependencies first, so this layer is reused while only the code changes. The lock pins every
# transitive dependency with its hashes (`make lock`); pip refuses anything else. pip compiles
# the installed packages' bytecode by default, so they start without compiling too.
COPY lambda/requirements.lock ${LAMBDA_TASK_ROOT}/requirements.lock
RUN pip install --no-cache-dir --require-hashes --only-binary=:all: --no-deps \
        -r "${LAMBDA_TASK_ROOT}/requirements.lock" --target "${LAMBDA_TASK_ROOT}" \
    && rm "${LAMBDA_TASK_ROOT}/requirements.lock"

COPY lambda/txsummary ${LAMBDA_TASK_ROOT}/txsummary
# /var/task is read-only in Lambda, so bytecode not compiled here is compiled again at every
# cold start. unchecked-hash: the .pyc are trusted as built, whatever the files' timestamps.
RUN python -m compileall -q --invalidation-mode unchecked-hash "${LAMBDA_TASK_ROOT}/txsummary"

CMD ["txsummary.handler.handler"]
