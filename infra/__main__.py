"""txsummary: upload a transactions CSV to S3, read its summary in CloudWatch Logs."""

import pulumi

from tx_alarms import alarms
from tx_config import StackSettings
from tx_function import summarizer_function
from tx_image import container_image
from tx_storage import upload_bucket

settings = StackSettings.from_config()

image = container_image("txsummary", settings)
storage = upload_bucket("uploads", settings)
summarizer = summarizer_function(
    "txsummary", settings, bucket=storage.bucket, image_uri=image.image_uri
)
alarms("txsummary", settings, function=summarizer.function, failure_queue=summarizer.failure_queue)

pulumi.export("bucket_name", storage.bucket.bucket)
pulumi.export("function_name", summarizer.function.name)
pulumi.export("log_group_name", summarizer.log_group.name)
pulumi.export("failure_queue_url", summarizer.failure_queue.url)
pulumi.export("image_ref", image.image_uri)
pulumi.export(
    "upload_command",
    pulumi.Output.concat("aws s3 cp transactions.csv s3://", storage.bucket.bucket, "/"),
)
pulumi.export(
    "logs_command", pulumi.Output.concat("aws logs tail ", summarizer.log_group.name, " --follow")
)
