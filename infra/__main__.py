"""txsummary: upload a transactions CSV to S3, read its summary in CloudWatch Logs, the summary
table and the e-mail; query every transaction with Athena."""

import pulumi

from tx_alarms import alarms
from tx_config import StackSettings
from tx_email import email_sender
from tx_function import summarizer_function
from tx_image import container_image
from tx_lake import transactions_lake
from tx_reconcile import reconcile_schedule
from tx_storage import upload_bucket
from tx_table import summary_table
from tx_views import views

settings = StackSettings.from_config()

# --- storage and side effects ---
image = container_image("txsummary", settings)
storage = upload_bucket("uploads", settings)
table = summary_table("summaries", force_destroy=settings.force_destroy)
lake = (
    transactions_lake("transactions-lake", force_destroy=settings.force_destroy)
    if settings.lake_enabled
    else None
)
sender = email_sender("email-sender", settings.email_from) if settings.email_from else None

# --- the function ---
summarizer = summarizer_function(
    "txsummary",
    settings,
    bucket=storage.bucket,
    image_uri=image.image_uri,
    table=table,
    lake=lake,
    sender=sender,
)
reconcile = reconcile_schedule("txsummary", settings, function=summarizer.function)

# --- what an operator reads ---
watch = alarms(
    "txsummary", settings, function=summarizer.function, failure_queue=summarizer.failure_queue
)
board = views(
    "txsummary",
    function=summarizer.function,
    log_group=summarizer.log_group,
    failure_queue=summarizer.failure_queue,
    alarms=watch,
    namespace=settings.metrics_namespace,
)

# --- exports ---
pulumi.export("bucket_name", storage.bucket.bucket)
pulumi.export("function_name", summarizer.function.name)
pulumi.export("log_group_name", summarizer.log_group.name)
pulumi.export("failure_queue_url", summarizer.failure_queue.url)
pulumi.export("image_ref", image.image_uri)
pulumi.export("summary_table_name", table.table.name)
if lake is not None:
    pulumi.export("lake_bucket_name", lake.bucket.bucket)
    pulumi.export("glue_database", lake.database.name)
    pulumi.export("glue_table", lake.table.name)
if sender is not None:
    pulumi.export("email_identity", sender.identity.email_identity)
pulumi.export(
    "upload_command",
    pulumi.Output.concat("aws s3 cp transactions.csv s3://", storage.bucket.bucket, "/"),
)
pulumi.export(
    "logs_command", pulumi.Output.concat("aws logs tail ", summarizer.log_group.name, " --follow")
)
pulumi.export("dashboard_url", board.dashboard_url)
pulumi.export("logs_insights_url", board.logs_insights_url)
pulumi.export("saved_queries", [query.name for query in board.queries.values()])
pulumi.export("alarm_names", [alarm.name for alarm in watch.all])
pulumi.export("reconcile_schedule_name", reconcile.schedule.name)
