"""Run the Pulumi program in infra/ under Pulumi's unit-test mocks and record what it declares.

`run_program(config)` executes ``infra/`` with ``runpy.run_path`` against a fresh mock
engine and returns every registered resource (type, logical name, resolved inputs, dependency
edges) and the stack's resolved exports. No cloud, no Pulumi CLI, no Docker.
"""

from __future__ import annotations

import runpy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Pulumi.yaml says `main: infra/`; Pulumi's Python host runs that directory with runpy.run_path,
# which puts the directory first on sys.path. Run it the same way.
PROGRAM = PROJECT_ROOT / "infra"
PROJECT = "txsummary"
STACK = "dev"
ACCOUNT = "123456789012"
REGION = "us-east-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
DIGEST = "sha256:" + "0123456789abcdef" * 4
ECR_USER = "AWS"
ECR_PASSWORD = "mock-ecr-token"


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: set[tuple[str, str]] = field(default_factory=set)
    """(type, logical name) of everything this resource waits for: ``depends_on`` and inputs."""

    def depends_on(self, other: Registered) -> bool:
        return (other.type, other.name) in self.dependencies


def _computed_outputs(args: MockResourceArgs) -> dict[str, Any]:
    """What the provider would compute: ARNs, URLs, generated names, the pushed digest."""
    name, inputs = args.name, args.inputs
    match args.typ:
        case "aws:ecr/repository:Repository":
            return {
                "name": name,
                "registryId": ACCOUNT,
                "repositoryUrl": f"{REGISTRY}/{name}",
                "arn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}",
            }
        case "docker-build:index:Image":
            tag = inputs["tags"][0]
            return {"digest": DIGEST, "ref": f"{tag}@{DIGEST}"}
        case "aws:s3/bucket:Bucket":
            bucket = f"{name}-0a1b2c3"
            return {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}
        case "aws:cloudwatch/logGroup:LogGroup":
            return {"arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{inputs['name']}"}
        case "aws:sqs/queue:Queue":
            queue = f"{name}-4d5e6f7"
            return {
                "name": queue,
                "arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
                "url": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{queue}",
            }
        case "aws:iam/role:Role":
            return {"name": name, "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}"}
        case "aws:lambda/function:Function":
            return {"arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{inputs['name']}"}
        case "aws:sns/topic:Topic":
            return {"arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"}
        case _:
            return _side_effect_outputs(args)


def _side_effect_outputs(args: MockResourceArgs) -> dict[str, Any]:
    """The same for the side effects' and the operator's resources."""
    match args.typ:
        case "aws:dynamodb/table:Table":
            table = f"{args.name}-8a9b0c1"
            return {"name": table, "arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"}
        case "aws:sesv2/emailIdentity:EmailIdentity":
            identity = args.inputs["emailIdentity"]
            return {"arn": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{identity}"}
        case "aws:cloudwatch/metricAlarm:MetricAlarm":
            return {"arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{args.inputs['name']}"}
        case "aws:scheduler/schedule:Schedule":
            schedule = f"{args.name}-5e6f7a8"
            return {
                "name": schedule,
                "arn": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{schedule}",
            }
        case "aws:cloudwatch/queryDefinition:QueryDefinition":
            return {"queryDefinitionId": f"{args.name}-qid"}
        case _:
            return {}


def _physical_id(typ: str, name: str, outputs: dict[str, Any]) -> str:
    """The ``id`` the AWS provider reports: the bucket name, the queue URL, the role name..."""
    match typ:
        case "aws:s3/bucket:Bucket":
            return str(outputs["bucket"])
        case "aws:sqs/queue:Queue":
            return str(outputs["url"])
        case (
            "aws:iam/role:Role"
            | "aws:cloudwatch/logGroup:LogGroup"
            | "aws:dynamodb/table:Table"
            | "aws:glue/catalogDatabase:CatalogDatabase"
        ):
            return str(outputs["name"])
        case _:
            return f"{name}-id"


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Registered] = []
        self.calls: list[str] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        outputs = {**args.inputs, **_computed_outputs(args)}
        self.resources.append(Registered(args.typ, args.name, dict(args.inputs), outputs))
        return _physical_id(args.typ, args.name, outputs), outputs

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        self.calls.append(args.token)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/mock",
                "id": ACCOUNT,
                "userId": "AIDAMOCK",
            }, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"id": REGION, "region": REGION, "name": REGION}, []
        if args.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                "authorizationToken": "bW9jaw==",
                "expiresAt": "2030-01-01T00:00:00Z",
                "id": REGION,
                "password": ECR_PASSWORD,
                "proxyEndpoint": f"https://{REGISTRY}",
                "registryId": ACCOUNT,
                "userName": ECR_USER,
            }, []
        return {}, []


class RecordingMonitor(MockMonitor):
    """Keeps each registration's ``request.dependencies`` (URNs), which the stock monitor drops."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.dependencies: dict[tuple[str, str], list[str]] = {}

    def RegisterResource(self, request: Any) -> Any:
        self.dependencies[(request.type, request.name)] = list(request.dependencies)
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


def _type_and_name(urn: str) -> tuple[str, str]:
    # urn:pulumi:<stack>::<project>::<parent$...$type>::<name>
    *_, qualified_type, name = urn.split("::")
    return qualified_type.split("$")[-1], name


@dataclass
class Program:
    resources: list[Registered]
    exports: dict[str, Any]
    calls: list[str]

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str) -> Registered:
        found = self.of_type(typ)
        assert len(found) == 1, f"expected exactly one {typ}, found {[r.name for r in found]}"
        return found[0]

    @property
    def types(self) -> set[str]:
        return {r.type for r in self.resources if not r.type.startswith("pulumi:providers:")}


def run_program(config: Mapping[str, str] | None = None) -> Program:
    """Run infra/ under mocks; ``config`` holds ``txsummary:`` settings, unprefixed."""
    values = {"aws:region": REGION}
    values.update({f"{PROJECT}:{key}": value for key, value in (config or {}).items()})
    pulumi.runtime.set_all_config(values)

    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    pulumi_settings.ROOT.set(None)  # a fresh stack resource, so exports do not carry over
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=False, monitor=monitor)

    exports: dict[str, Any] = {}

    @pulumi.runtime.test
    def execute() -> pulumi.Output[None]:
        runpy.run_path(str(PROGRAM), run_name="__main__")
        root = pulumi.runtime.get_root_resource()
        assert isinstance(root, pulumi.runtime.stack.Stack)
        return pulumi.Output.all(**root.outputs).apply(exports.update)

    execute()

    for resource in mocks.resources:
        urns = monitor.dependencies.get((resource.type, resource.name), [])
        resource.dependencies = {_type_and_name(urn) for urn in urns}
    return Program(resources=mocks.resources, exports=exports, calls=mocks.calls)
