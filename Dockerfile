# The txsummary Lambda: the AWS Lambda Python base image plus the runtime dependencies and the
# txsummary package. Built for linux/amd64 by the Pulumi program in infra/ (`pulumi up`).
FROM public.ecr.aws/lambda/python:3.12

# Dependencies first, so this layer is reused while only the code changes.
COPY lambda/requirements.txt ${LAMBDA_TASK_ROOT}/requirements.txt
RUN pip install --no-cache-dir -r "${LAMBDA_TASK_ROOT}/requirements.txt" --target "${LAMBDA_TASK_ROOT}" \
    && rm "${LAMBDA_TASK_ROOT}/requirements.txt"

COPY lambda/txsummary ${LAMBDA_TASK_ROOT}/txsummary

CMD ["txsummary.handler.handler"]
