"""Deterministic generator of realistic CloudTrail log files for the benchmark (written under bench/data/).

Records are shaped like CloudTrail's own: compact `{"Records":[...]}` JSON, gzip-compressed, with the
identity shapes of real trails (IAM users, assumed roles with a session issuer, AWS services, root,
Identity Center users, federated users, AWS accounts), request parameters, response elements,
resources and TLS details, and now and then the Support Recommendations source named inside another
service's parameters (a CloudTrail LookupEvents search for it), as security teams do. The `services-1`
set (issue 24) spreads its 1 % of AI calls over Support Recommendations, Amazon Q's console chat (its
text masked as AWS writes it, a few `dryRun` checks) and Bedrock (inference on a few models, a few
control-plane calls).
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
SUPPORT_SOURCE = "supportrecommendations.amazonaws.com"
ACCOUNTS = ["111122223333", "444455556666", "777788889999", "123456789012"]
REGIONS = ["us-east-1", "us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]
CALLS = [
    ("ec2.amazonaws.com", "DescribeInstances", {"filterSet": {"items": [{"name": "instance-state-name"}]}}),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", {"securityGroupSet": {}, "securityGroupIdSet": {}}),
    ("s3.amazonaws.com", "GetBucketAcl", {"bucketName": "logs-{n}", "Host": "logs-{n}.s3.amazonaws.com", "acl": ""}),
    ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}),
    ("sts.amazonaws.com", "AssumeRole", {"roleArn": "arn:aws:iam::{a}:role/Deploy{n}", "roleSessionName": "s{n}"}),
    ("kms.amazonaws.com", "Decrypt", {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "keyId": "alias/app{n}"}),
    ("logs.amazonaws.com", "CreateLogStream", {"logGroupName": "/aws/lambda/fn{n}", "logStreamName": "2023/09/11"}),
    ("lambda.amazonaws.com", "Invoke", {"functionName": "arn:aws:lambda:us-east-1:{a}:function:fn{n}"}),
    ("iam.amazonaws.com", "GetRole", {"roleName": "Deploy{n}"}),
    ("dynamodb.amazonaws.com", "DescribeTable", {"tableName": "orders-{n}"}),
    ("monitoring.amazonaws.com", "GetMetricData", {"metricDataQueries": [{"id": "m{n}", "returnData": True}]}),
    ("ssm.amazonaws.com", "GetParameters", {"names": ["/app/{n}/db-url", "/app/{n}/flags"], "withDecryption": True}),
]
AGENTS = [
    "aws-cli/2.13.15 Python/3.11.4 Linux/5.15.0 exe/x86_64.ubuntu.22 prompt/off command/ec2.describe-instances",
    "Boto3/1.28.40 md/Botocore#1.31.40 ua/2.0 os/linux#5.10.186 md/arch#x86_64 lang/python#3.11.5"
    " cfg/retry-mode#legacy",
    "console.amazonaws.com",
    "signin.amazonaws.com",
    "AWS Internal",
    "aws-sdk-go-v2/1.21.0 os/linux lang/go#1.21.1 md/GOOS#linux md/GOARCH#arm64 api/s3#1.38.5",
]


def user_identity(rng: random.Random) -> dict[str, Any]:
    account = rng.choice(ACCOUNTS)
    n = rng.randrange(40)
    shape = rng.random()
    if shape < 0.45:
        role = f"arn:aws:iam::{account}:role/Role{n % 12}"
        return {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLE{n:05d}:session{n}",
            "arn": f"arn:aws:sts::{account}:assumed-role/Role{n % 12}/session{n}",
            "accountId": account,
            "accessKeyId": f"ASIAEXAMPLE{n:09d}",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": f"AROAEXAMPLE{n:05d}",
                    "arn": role,
                    "accountId": account,
                    "userName": f"Role{n % 12}",
                },
                "webIdFederationData": {},
                "attributes": {"creationDate": "2023-09-11T15:00:00Z", "mfaAuthenticated": "false"},
            },
        }
    if shape < 0.7:
        return {
            "type": "IAMUser",
            "principalId": f"AIDAEXAMPLE{n:09d}",
            "arn": f"arn:aws:iam::{account}:user/user{n}",
            "accountId": account,
            "accessKeyId": f"AKIAEXAMPLE{n:09d}",
            "userName": f"user{n}",
        }
    if shape < 0.88:
        return {"type": "AWSService", "invokedBy": rng.choice(["ec2.amazonaws.com", "lambda.amazonaws.com"])}
    if shape < 0.92:
        return {
            "type": "Root",
            "principalId": account,
            "arn": f"arn:aws:iam::{account}:root",
            "accountId": account,
            "accessKeyId": "",
        }
    if shape < 0.97:
        return {
            "type": "IdentityCenterUser",
            "accountId": account,
            "onBehalfOf": {
                "userId": f"9067{n:06d}-1a2b-3c4d",
                "identityStoreArn": "arn:aws:identitystore::111122223333:identitystore/d-9067example",
            },
            "credentialId": f"cred{n}",
        }
    if shape < 0.99:
        return {
            "type": "FederatedUser",
            "principalId": f"{account}:fed{n}",
            "arn": f"arn:aws:sts::{account}:federated-user/fed{n}",
            "accountId": account,
        }
    return {"type": "AWSAccount", "principalId": f"AIDAEXAMPLE{n}", "accountId": account}


def fill(value: Any, account: str, n: int) -> Any:
    if isinstance(value, str):
        return value.replace("{a}", account).replace("{n}", str(n))
    if isinstance(value, dict):
        return {key: fill(item, account, n) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, account, n) for item in value]
    return value


Q_SOURCE, BEDROCK_SOURCE = "q.amazonaws.com", "bedrock.amazonaws.com"
Q_ANSWER = {
    "result": {"content": {"text": {"body": "***"}}, "format": "PLAINTEXT", "type": "TEXT"},
    "resultCode": "LLM",
}
MODELS = ["anthropic.claude-3-5-sonnet-20240620-v1:0", "amazon.nova-pro-v1:0", "meta.llama3-70b-instruct-v1:0"]


def ai_call(rng: random.Random) -> tuple[str, str, Any]:
    """One AI call of the `services-1` set: a third each Support Recommendations, Q's chat, Bedrock."""
    kind = rng.randrange(3)
    if kind == 0:
        name = rng.choice(["StartSupportTroubleshooting", "GetSupportTroubleshootingResponse"])
        return SUPPORT_SOURCE, name, {"message": "why does my instance not boot?"} if name.startswith("Start") else {}
    if kind == 1:
        name = rng.choice(["SendMessage", "SendMessage", "StartConversation", "GetConversation"])
        parameters = {"conversationId": str(uuid.UUID(int=rng.getrandbits(128))), "origin": "CONSOLE"}
        parameters |= {"utterance": "***", "conversationToken": "***"} if name == "SendMessage" else {}
        return Q_SOURCE, name, parameters | ({"dryRun": True} if rng.random() < 0.05 else {})
    if rng.random() < 0.1:
        return BEDROCK_SOURCE, rng.choice(["ListFoundationModels", "GetFoundationModel"]), {}
    return BEDROCK_SOURCE, rng.choice(["InvokeModel", "Converse", "ConverseStream"]), {"modelId": rng.choice(MODELS)}


def record(rng: random.Random, support: bool, services: bool = False) -> dict[str, Any]:
    who = user_identity(rng)
    account = who.get("accountId", rng.choice(ACCOUNTS))
    n = rng.randrange(1000)
    day, hour, minute, second = 10 + rng.randrange(3), rng.randrange(24), rng.randrange(60), rng.randrange(60)
    time = f"2023-09-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"
    if support and services:
        source, name, parameters = ai_call(rng)
    elif support:
        source, name = SUPPORT_SOURCE, rng.choice(["StartSupportTroubleshooting", "GetSupportTroubleshootingResponse"])
        parameters: Any = {"message": "why does my instance not boot?"} if name.startswith("Start") else {}
    elif rng.random() < 0.002:  # a security team searching CloudTrail for the service: the marker, elsewhere
        source, name = "cloudtrail.amazonaws.com", "LookupEvents"
        parameters = {"lookupAttributes": [{"attributeKey": "EventSource", "attributeValue": SUPPORT_SOURCE}]}
    else:
        source, name, template = rng.choice(CALLS)
        parameters = fill(template, account, n)
    found: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": who,
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": rng.choice(REGIONS),
        "sourceIPAddress": who.get("invokedBy") or f"198.51.{rng.randrange(256)}.{rng.randrange(256)}",
        "userAgent": who.get("invokedBy") or rng.choice(AGENTS),
    }
    if rng.random() < 0.04:
        found["errorCode"] = rng.choice(["AccessDenied", "ThrottlingException", "Client.UnauthorizedOperation"])
        found["errorMessage"] = "User is not authorized to perform this operation"
    found["requestParameters"] = parameters
    found["responseElements"] = (
        {"credentials": {"accessKeyId": f"ASIAEXAMPLE{n}", "expiration": "Sep 11, 2023, 5:00:00 PM"}}
        if name == "AssumeRole"
        else Q_ANSWER
        if source == Q_SOURCE
        else None
    )
    found["requestID"] = str(uuid.UUID(int=rng.getrandbits(128)))
    found["eventID"] = str(uuid.UUID(int=rng.getrandbits(128)))
    found["readOnly"] = name.startswith(("Describe", "Get", "List", "Lookup")) or source == SUPPORT_SOURCE
    if name in ("Decrypt", "AssumeRole", "Invoke"):
        key = f"arn:aws:kms:us-east-1:{account}:key/{n}"
        found["resources"] = [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key}]
    found["eventType"] = "AwsApiCall"
    found["managementEvent"] = True
    found["recipientAccountId"] = account
    found["eventCategory"] = "Management"
    if not who.get("invokedBy"):
        found["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{source.split('.')[0]}.{found['awsRegion']}.amazonaws.com",
        }
    return found


def document(records: int, support_fraction: float, seed: int, services: bool = False) -> Iterator[bytes]:
    """The compact JSON of one log file, in pieces; `services`: its AI calls are of every service (`ai_call`)."""
    rng = random.Random(seed)
    yield b'{"Records":['
    for number in range(records):
        piece = json.dumps(record(rng, rng.random() < support_fraction, services), separators=(",", ":"))
        yield (b"," if number else b"") + piece.encode()
    yield b"]}"


def write(path: Path, records: int, support_fraction: float, seed: int, services: bool = False) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip, the level CloudTrail's files compress like
    temporary = path.with_suffix(".part")
    with temporary.open("wb") as out:
        for piece in document(records, support_fraction, seed, services):
            out.write(packer.compress(piece))
        out.write(packer.flush())
    temporary.rename(path)


SETS = {"support-0": 0.0, "support-1": 0.01, "support-20": 0.20}
SERVICE_SETS = {"services-1": 0.01}  # written only when asked (`run.py --services`)
FILES_PER_SET = 8
RECORDS_PER_FILE = 20_000
SIZES = {"size-1": 1, "size-30k": 30_000, "size-100k": 100_000, "size-300k": 300_000}


def files(name: str) -> list[Path]:
    return sorted((DATA / name).glob("*.json.gz"))


def generate(sets: bool = True, sizes: bool = True, services: bool = False) -> None:
    if sets:
        for index, (name, fraction) in enumerate(SETS.items()):
            for number in range(FILES_PER_SET):
                write(DATA / name / f"file-{number:02d}.json.gz", RECORDS_PER_FILE, fraction, 1000 * index + number)
    if services:
        for index, (name, fraction) in enumerate(SERVICE_SETS.items(), start=len(SETS)):
            for number in range(FILES_PER_SET):
                path = DATA / name / f"file-{number:02d}.json.gz"
                write(path, RECORDS_PER_FILE, fraction, 1000 * index + number, services=True)
    if sizes:
        for index, (name, count) in enumerate(SIZES.items()):
            write(DATA / name / f"{name}.json.gz", count, 0.01, 9000 + index)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    generate()
    for name in [*SETS, *SIZES]:
        found = files(name)
        print(f"{name}: {len(found)} files, {sum(p.stat().st_size for p in found) / 1e6:.1f} MB gzip")
