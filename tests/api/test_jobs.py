"""Import and export jobs over boto3: CSV and JSON files from file://, s3:// (moto's S3 on
loopback) and http:// on loopback, IMPORT segments, bad rows and bad files reported without
stopping good ones, Pinpoint export files loading back unchanged, the CLI, and restarts."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.conftest import Server, free_port, new_postgres_database, signed_request, start_server

ROLE = "arn:aws:iam::123456789012:role/pinpoint-import"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
DOC_CSV = """\
ChannelType,Address,Location.Country,Demographic.Platform,Demographic.Make,User.UserId
SMS,+16045550182,CA,Android,LG,example-user-id-1
APNS,1a2b3c4d5e6f7g8h9i0j1a2b3c4d5e6f,US,iOS,Apple,example-user-id-2
EMAIL,john.stiles@example.com,US,iOS,Apple,example-user-id-2
GCM,4d5e6f1a2b3c4d5e6f7g8h9i0j1a2b3c,CN,Android,Google,example-user-id-3
EMAIL,wang.xiulan@example.com,CN,Android,OnePlus,example-user-id-3
"""


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        moto.stop()


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roots")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    roots: Path,
    s3_url: str,
) -> Iterator[Server]:
    stack = contextlib.ExitStack()
    database_url = (
        stack.enter_context(new_postgres_database()) if request.param == "postgresql" else None
    )
    running = start_server(
        tmp_path_factory.mktemp(f"jobs-{request.param}"),
        database_url,
        CLARION_FILE_ROOTS=json.dumps([str(roots)]),
        CLARION_AWS_ENDPOINT_URL=s3_url,
        **AWS_ENV,
    )
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()
        stack.close()


@pytest.fixture
def s3(s3_url: str) -> Any:
    return boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1", **_aws_keys())


def _aws_keys() -> dict[str, str]:
    return {
        "aws_access_key_id": AWS_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": AWS_ENV["AWS_SECRET_ACCESS_KEY"],
    }


def write(root: Path, name: str, text: str, *, compress: bool = False) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def wait(pinpoint: Any, app_id: str, job_id: str, kind: str = "import") -> dict[str, Any]:
    get = pinpoint.get_import_job if kind == "import" else pinpoint.get_export_job
    key = "ImportJobResponse" if kind == "import" else "ExportJobResponse"
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = get(ApplicationId=app_id, JobId=job_id)[key]
        if job["JobStatus"] in ("COMPLETED", "FAILED"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def import_job(pinpoint: Any, app_id: str, url: str, file_format: str, **extra: Any) -> Any:
    created = pinpoint.create_import_job(
        ApplicationId=app_id,
        ImportJobRequest={"Format": file_format, "S3Url": url, "RoleArn": ROLE, **extra},
    )["ImportJobResponse"]
    assert created["JobStatus"] in ("CREATED", "PROCESSING", "COMPLETED", "FAILED")
    assert created["Type"] == "IMPORT"
    return wait(pinpoint, app_id, created["Id"])


def members(server: Server, app_id: str, segment_id: str) -> tuple[int, set[str]]:
    response = signed_request(
        server, "GET", f"/clarion/v1/apps/{app_id}/segments/{segment_id}/estimate"
    )
    assert response.status_code == 200, response.text
    return response.json()["Count"], set(response.json()["SampleEndpointIds"])


def all_endpoints(pinpoint: Any, app_id: str, roots: Path) -> list[dict[str, Any]]:
    """Every endpoint of the app, through an export job to a directory."""
    job = pinpoint.create_export_job(
        ApplicationId=app_id,
        ExportJobRequest={"S3UrlPrefix": (roots / app_id / "all").as_uri(), "RoleArn": ROLE},
    )["ExportJobResponse"]
    done = wait(pinpoint, app_id, job["Id"], "export")
    assert done["JobStatus"] == "COMPLETED", done
    return read_parts(roots / app_id / "all" / job["Id"])


def read_parts(directory: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for part in sorted(directory.glob("*.gz"))
        for line in gzip.decompress(part.read_bytes()).splitlines()
    ]


def test_the_documented_csv_defines_a_segment(
    server: Server, pinpoint: Any, app_id: str, roots: Path
) -> None:
    path = write(roots, f"{app_id}/users.csv", DOC_CSV)
    job = import_job(
        pinpoint, app_id, path.as_uri(), "CSV", DefineSegment=True, SegmentName="Imported"
    )
    assert job["JobStatus"] == "COMPLETED", job
    assert (job["TotalProcessed"], job["TotalFailures"], job["Failures"]) == (5, 0, [])
    assert (job["TotalPieces"], job["CompletedPieces"], job["FailedPieces"]) == (1, 1, 0)
    assert job["CompletionDate"] >= job["CreationDate"]
    segment_id = job["Definition"]["SegmentId"]

    segment = pinpoint.get_segment(ApplicationId=app_id, SegmentId=segment_id)["SegmentResponse"]
    assert segment["SegmentType"] == "IMPORT"
    assert segment["Name"] == "Imported"
    assert segment["ImportDefinition"]["Size"] == 5
    assert segment["ImportDefinition"]["ChannelCounts"] == {
        "SMS": 1,
        "APNS": 1,
        "EMAIL": 2,
        "GCM": 1,
    }
    assert members(server, app_id, segment_id)[0] == 5
    users = pinpoint.get_user_endpoints(ApplicationId=app_id, UserId="example-user-id-3")
    found = {e["Address"]: e for e in users["EndpointsResponse"]["Item"]}
    assert set(found) == {"4d5e6f1a2b3c4d5e6f7g8h9i0j1a2b3c", "wang.xiulan@example.com"}
    assert found["wang.xiulan@example.com"]["Demographic"] == {
        "Platform": "Android",
        "Make": "OnePlus",
    }
    listed = pinpoint.get_segment_import_jobs(ApplicationId=app_id, SegmentId=segment_id)
    assert [j["Id"] for j in listed["ImportJobsResponse"]["Item"]] == [job["Id"]]


def test_bad_rows_are_counted_and_reported_and_good_rows_still_land(
    server: Server, pinpoint: Any, app_id: str, roots: Path
) -> None:
    text = (
        "Id,ChannelType,Address,Attributes.Interest,Attributes.Interest,Metrics.Score\n"
        "a,EMAIL,a@example.com,Music,Books,3\n"
        "b,EMAIL,not-an-address,,,1\n"
        "c,FAX,c@example.com,,,1\n"
        "d,EMAIL,d@example.com,,,many\n"
        "e,EMAIL,e@example.com\n"
        "f,EMAIL,f@example.com,,,2.5\n"
    )
    path = write(roots, f"{app_id}/mixed.csv", text)
    job = import_job(pinpoint, app_id, path.as_uri(), "CSV")
    assert job["JobStatus"] == "COMPLETED"
    assert (job["TotalProcessed"], job["TotalFailures"]) == (6, 4)
    failures = " | ".join(job["Failures"])
    for expected in (
        "row 3: Endpoint.Address",
        "row 4: ChannelType 'FAX'",
        "row 5: Metrics.Score must be a number",
        "row 6 has 3 fields; the header has 6",
    ):
        assert expected in failures
    a = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="a")["EndpointResponse"]
    assert a["Attributes"] == {"Interest": ["Music", "Books"]}
    assert a["Metrics"] == {"Score": 3.0}
    assert pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="f")["EndpointResponse"]
    for refused in ("b", "c", "d", "e"):
        with pytest.raises(pinpoint.exceptions.NotFoundException):
            pinpoint.get_endpoint(ApplicationId=app_id, EndpointId=refused)


def test_json_from_an_s3_prefix_reads_every_object_gzip_included(
    server: Server, pinpoint: Any, app_id: str, s3: Any
) -> None:
    bucket = f"imports-{app_id[:12]}"
    s3.create_bucket(Bucket=bucket)
    lines = [
        json.dumps({"Id": f"p{n}", "ChannelType": "EMAIL", "Address": f"p{n}@example.com"})
        for n in range(30)
    ]
    s3.put_object(Bucket=bucket, Key="in/one.json", Body="\n".join(lines[:10]).encode())
    s3.put_object(
        Bucket=bucket,
        Key="in/deeper/two.json.gz",
        Body=gzip.compress("\n".join(lines[10:]).encode()),
    )
    s3.put_object(Bucket=bucket, Key="other/three.json", Body=b"{}")
    job = import_job(pinpoint, app_id, f"s3://{bucket}/in/", "JSON")
    assert job["JobStatus"] == "COMPLETED", job
    assert (job["TotalPieces"], job["TotalProcessed"], job["TotalFailures"]) == (2, 30, 0)
    assert pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="P29")["EndpointResponse"]

    empty = import_job(pinpoint, app_id, f"s3://{bucket}/nothing/", "JSON")
    assert empty["JobStatus"] == "FAILED"
    assert "holds no objects" in empty["Failures"][0]
    assert (empty["TotalPieces"], empty["CompletedPieces"], empty["FailedPieces"]) == (1, 0, 1)


def test_an_http_source_on_loopback(
    server: Server, pinpoint: Any, app_id: str, tmp_path: Path
) -> None:
    write(tmp_path, "list.csv", "Id,ChannelType,Address\nw1,SMS,+14155550100\n")

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    web = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{web.server_port}"
        job = import_job(pinpoint, app_id, f"{base}/list.csv", "CSV")
        assert (job["JobStatus"], job["TotalProcessed"]) == ("COMPLETED", 1)
        gone = import_job(pinpoint, app_id, f"{base}/missing.csv", "CSV")
        assert gone["JobStatus"] == "FAILED"
        assert "HTTP 404" in gone["Failures"][0]
    finally:
        web.shutdown()


def test_a_bad_file_fails_alone(server: Server, pinpoint: Any, app_id: str, roots: Path) -> None:
    write(roots, f"{app_id}/dir/1.csv", "Id,ChannelType,Address\nk1,EMAIL,k1@example.com\n")
    write(roots, f"{app_id}/dir/2.csv", "Id,ChannelType,Shoe\nk2,EMAIL,x\n")
    (roots / app_id / "dir" / "3.csv").write_bytes(b"Id,ChannelType,Address\nk3,EMAIL,\xff\n")
    job = import_job(pinpoint, app_id, (roots / app_id / "dir").as_uri(), "CSV")
    assert job["JobStatus"] == "COMPLETED"
    assert (job["TotalPieces"], job["CompletedPieces"], job["FailedPieces"]) == (3, 1, 2)
    assert any("'Shoe', which is not an endpoint field" in f for f in job["Failures"])
    assert any("not UTF-8" in f for f in job["Failures"])
    assert pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="k1")["EndpointResponse"]


def test_a_pinpoint_export_file_imports_and_exports_back_unchanged(
    server: Server, pinpoint: Any, app_id: str, roots: Path
) -> None:
    old_app = "0f8e4a6b3c2d4e5f8a9b0c1d2e3f4a5b"
    exported: list[dict[str, Any]] = [
        {
            "ChannelType": "EMAIL",
            "EndpointStatus": "ACTIVE",
            "OptOut": "NONE",
            "RequestId": "4c5b1a2e-7f1e-11e8-8d1c-7b3f2ec0f1a1",
            "Location": {"Country": "US", "City": "Seattle", "Latitude": 47.6, "Longitude": -122.3},
            "Demographic": {"Platform": "ios", "Make": "Apple", "Timezone": "America/Los_Angeles"},
            "EffectiveDate": "2019-08-23T10:54:35.220Z",
            "Attributes": {"Interests": ["Music", "Books"]},
            "Metrics": {"Sessions": 12.0},
            "User": {"UserId": "user-1", "UserAttributes": {"FirstName": ["Ann"]}},
            "ApplicationId": old_app,
            "Id": "Ann-Email",
            "CohortId": "17",
            "CreationDate": "2019-08-20T08:00:00.000Z",
            "Address": "ann@example.com",
        },
        {
            "ChannelType": "SMS",
            "EndpointStatus": "INACTIVE",
            "OptOut": "ALL",
            "RequestId": "5d6c2b3f-7f1e-11e8-8d1c-7b3f2ec0f1a2",
            "EffectiveDate": "2020-01-02T03:04:05.006Z",
            "ApplicationId": old_app,
            "Id": "bob-sms",
            "CohortId": "93",
            "CreationDate": "2020-01-01T00:00:00.000Z",
            "Address": "+14155550123",
        },
    ]
    text = "".join(json.dumps(line) + "\n" for line in exported)
    path = write(roots, f"{app_id}/pinpoint-export/a1b2c3.gz", text, compress=True)
    job = import_job(pinpoint, app_id, path.parent.as_uri(), "JSON")
    assert (job["JobStatus"], job["TotalProcessed"], job["TotalFailures"]) == ("COMPLETED", 2, 0)

    back = {e["Id"]: e for e in all_endpoints(pinpoint, app_id, roots)}
    for original in exported:
        assert back[original["Id"]] == {**original, "ApplicationId": app_id}


def test_export_of_a_segment_to_s3(
    server: Server, pinpoint: Any, app_id: str, roots: Path, s3: Any
) -> None:
    items = [
        {
            "Id": f"e{n}",
            "ChannelType": "EMAIL",
            "Address": f"e{n}@example.com",
            "Attributes": {"Tier": ["gold" if n % 3 == 0 else "basic"]},
        }
        for n in range(12)
    ]
    pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    gold = pinpoint.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={
            "Name": "gold",
            "Dimensions": {
                "Attributes": {"Tier": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}
            },
        },
    )["SegmentResponse"]["Id"]
    bucket = f"exports-{app_id[:12]}"
    s3.create_bucket(Bucket=bucket)
    created = pinpoint.create_export_job(
        ApplicationId=app_id,
        ExportJobRequest={
            "S3UrlPrefix": f"s3://{bucket}/pinpoint/",
            "RoleArn": ROLE,
            "SegmentId": gold,
            "SegmentVersion": 1,
        },
    )["ExportJobResponse"]
    job = wait(pinpoint, app_id, created["Id"], "export")
    assert (job["JobStatus"], job["TotalProcessed"], job["CompletedPieces"]) == ("COMPLETED", 4, 1)
    assert job["Definition"]["SegmentId"] == gold
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"pinpoint/{created['Id']}/part-00001.gz"]
    body = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    ids = sorted(json.loads(line)["Id"] for line in gzip.decompress(body).splitlines())
    assert ids == ["e0", "e3", "e6", "e9"]
    listed = pinpoint.get_segment_export_jobs(ApplicationId=app_id, SegmentId=gold)
    assert [j["Id"] for j in listed["ExportJobsResponse"]["Item"]] == [created["Id"]]
    assert pinpoint.get_export_jobs(ApplicationId=app_id)["ExportJobsResponse"]["Item"]


def test_user_ids_and_unregistered_endpoints_in_an_import_segment(
    server: Server, pinpoint: Any, app_id: str, roots: Path
) -> None:
    items = [
        {
            "Id": "u1-phone",
            "ChannelType": "SMS",
            "Address": "+14155550101",
            "User": {"UserId": "u1"},
        },
        {
            "Id": "u1-mail",
            "ChannelType": "EMAIL",
            "Address": "u1@example.com",
            "User": {"UserId": "u1"},
        },
        {"Id": "known", "ChannelType": "EMAIL", "Address": "known@example.com"},
        {"Id": "other", "ChannelType": "EMAIL", "Address": "other@example.com"},
    ]
    pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    path = write(roots, f"{app_id}/who.json", '{"User":{"UserId":"u1"}}\n{"Id":"KNOWN"}\n')
    job = import_job(
        pinpoint,
        app_id,
        path.as_uri(),
        "JSON",
        DefineSegment=True,
        SegmentName="who",
        RegisterEndpoints=False,
    )
    assert (job["JobStatus"], job["TotalFailures"]) == ("COMPLETED", 0), job
    count, ids = members(server, app_id, job["Definition"]["SegmentId"])
    assert (count, ids) == (3, {"u1-phone", "u1-mail", "known"})


def test_creation_is_refused_with_precise_errors(
    server: Server, pinpoint: Any, app_id: str, roots: Path, tmp_path: Path
) -> None:
    def refused(request: dict[str, Any], expected: str) -> None:
        with pytest.raises(pinpoint.exceptions.BadRequestException, match=expected):
            pinpoint.create_import_job(
                ApplicationId=app_id,
                ImportJobRequest={"Format": "CSV", "RoleArn": ROLE, **request},
            )

    outside = write(tmp_path, "outside.csv", DOC_CSV)
    refused({"S3Url": outside.as_uri()}, "outside this application's file folders")
    refused({"S3Url": f"file://{roots}/{app_id}/../x.csv"}, "outside this application's")
    refused({"S3Url": write(roots, "shared.csv", DOC_CSV).as_uri()}, "outside this application's")
    refused({"S3Url": f"file://{roots}/{app_id}/a%00b.csv"}, "NUL character")
    refused({"S3Url": "ftp://example.com/x.csv"}, "not a supported location")
    refused({"S3Url": "http://example.com/x.csv"}, "plain http is allowed only to hosts")
    refused({"S3Url": "https://169.254.169.254/latest/meta-data/"}, "a link-local address")
    refused({"S3Url": "s3:///x.csv"}, "names no bucket")
    refused({"S3Url": "s3://b/x", "RoleArn": "role"}, "is not an IAM role ARN")
    refused({"S3Url": "s3://b/x", "DefineSegment": True}, "SegmentName is required")
    refused({"S3Url": "s3://b/x", "SegmentId": "nope"}, "there is no segment nope")
    dimensional = pinpoint.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={
            "Name": "d",
            "Dimensions": {"Demographic": {"Platform": {"Values": ["ios"]}}},
        },
    )["SegmentResponse"]["Id"]
    refused({"S3Url": "s3://b/x", "SegmentId": dimensional}, "IMPORT segments only")
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="names a file"):
        pinpoint.create_export_job(
            ApplicationId=app_id,
            ExportJobRequest={
                "S3UrlPrefix": write(roots, f"{app_id}/f.txt", "x").as_uri(),
                "RoleArn": ROLE,
            },
        )
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_import_job(ApplicationId=app_id, JobId="missing")
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_export_job(ApplicationId=app_id, JobId="missing")


def test_job_listings_page_newest_first(
    server: Server, pinpoint: Any, app_id: str, roots: Path
) -> None:
    path = write(roots, f"{app_id}/one.csv", "Id,ChannelType,Address\nz,EMAIL,z@example.com\n")
    ids = [import_job(pinpoint, app_id, path.as_uri(), "CSV")["Id"] for _ in range(3)]
    first = pinpoint.get_import_jobs(ApplicationId=app_id, PageSize="2")["ImportJobsResponse"]
    assert [j["Id"] for j in first["Item"]] == ids[::-1][:2]
    rest = pinpoint.get_import_jobs(ApplicationId=app_id, PageSize="2", Token=first["NextToken"])
    assert [j["Id"] for j in rest["ImportJobsResponse"]["Item"]] == ids[:1]
    assert "NextToken" not in rest["ImportJobsResponse"]


def test_the_cli_imports_and_exports_with_a_progress_bar(
    server: Server, pinpoint: Any, app_id: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "people.csv", DOC_CSV + "EMAIL,broken,US,iOS,Apple,x\n")
    done = server.cli("import", str(path), "--app", app_id, "--segment", "From CLI")
    assert done.returncode == 0, done.stderr
    assert "COMPLETED: 6 rows processed, 1 refused" in done.stdout
    assert "Importing people.csv" in done.stdout
    segment_id = done.stdout.split("Segment: ")[1].split()[0]
    jobs = pinpoint.get_segment_import_jobs(ApplicationId=app_id, SegmentId=segment_id)
    assert jobs["ImportJobsResponse"]["Item"][0]["TotalProcessed"] == 6

    out = tmp_path / "out.json.gz"
    done = server.cli("export", str(out), "--app", app_id, "--segment", segment_id)
    assert done.returncode == 0, done.stderr
    assert "Exported 5 endpoints" in done.stdout
    lines = [json.loads(line) for line in gzip.decompress(out.read_bytes()).splitlines()]
    assert {line["Address"] for line in lines} >= {"john.stiles@example.com"}
    assert server.cli("export", str(out), "--app", "nope").returncode == 1


def test_an_import_survives_a_kill_and_finishes_after_restart(tmp_path: Path, roots: Path) -> None:
    rows = 20_000
    text = "Id,ChannelType,Address,Attributes.Batch\n" + "".join(
        f"r{n},EMAIL,r{n}@example.com,b{n % 7}\n" for n in range(rows)
    )
    settings = {"CLARION_FILE_ROOTS": json.dumps([str(roots)])}
    server = start_server(tmp_path / "data", None, **settings)
    pinpoint = server.client()
    app_id = pinpoint.create_app(CreateApplicationRequest={"Name": "restart"})[
        "ApplicationResponse"
    ]["Id"]
    path = write(roots, f"{app_id}/big.csv", text)
    job_id = pinpoint.create_import_job(
        ApplicationId=app_id,
        ImportJobRequest={"Format": "CSV", "S3Url": path.as_uri(), "RoleArn": ROLE},
    )["ImportJobResponse"]["Id"]
    deadline = time.monotonic() + 60
    while (
        pinpoint.get_import_job(ApplicationId=app_id, JobId=job_id)["ImportJobResponse"][
            "TotalProcessed"
        ]
        < 1000
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()

    again = start_server(tmp_path / "data", None, **settings)
    try:
        pinpoint = again.client()
        partial = pinpoint.get_import_job(ApplicationId=app_id, JobId=job_id)["ImportJobResponse"]
        assert partial["JobStatus"] == "PROCESSING"
        assert 0 < partial["TotalProcessed"] < rows
        job = wait(pinpoint, app_id, job_id)
        assert (job["JobStatus"], job["TotalProcessed"], job["TotalFailures"]) == (
            "COMPLETED",
            rows,
            0,
        )
        exported = all_endpoints(pinpoint, app_id, roots)
        assert sorted(e["Id"] for e in exported) == sorted(f"r{n}" for n in range(rows))
    finally:
        again.stop()


def test_one_app_cannot_import_what_another_apps_export_wrote(
    server: Server, pinpoint: Any, roots: Path
) -> None:
    """Issue 10, finding 1: file roots are partitioned per app, whichever key asks."""

    def new_app(name: str) -> str:
        app: str = pinpoint.create_app(CreateApplicationRequest={"Name": name})[
            "ApplicationResponse"
        ]["Id"]
        return app

    app_a, app_b = new_app("a"), new_app("b")
    pinpoint.update_endpoint(
        ApplicationId=app_b,
        EndpointId="secret",
        EndpointRequest={
            "ChannelType": "EMAIL",
            "Address": "b@example.com",
            "User": {"UserId": "b-user", "UserAttributes": {"Card": ["4111"]}},
        },
    )
    all_endpoints(pinpoint, app_b, roots)
    limited_to_a = server.client(server.new_key(app_a))
    for client in (limited_to_a, pinpoint):
        with pytest.raises(client.exceptions.BadRequestException, match="outside this app"):
            client.create_import_job(
                ApplicationId=app_a,
                ImportJobRequest={
                    "Format": "JSON",
                    "S3Url": (roots / app_b / "all").as_uri(),
                    "RoleArn": ROLE,
                },
            )
        with pytest.raises(client.exceptions.BadRequestException, match="outside this app"):
            client.put_event_stream(
                ApplicationId=app_a,
                WriteEventStream={
                    "DestinationStreamArn": f"file://{roots}/{app_b}/stream.jsonl",
                    "RoleArn": ROLE,
                },
            )
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_endpoint(ApplicationId=app_a, EndpointId="secret")


def test_a_redirect_to_an_address_the_policy_refuses_is_not_followed(
    pinpoint: Any, app_id: str, tmp_path: Path
) -> None:
    """Issue 10, finding 2: each redirect hop is checked. 0.0.0.0 reaches this machine's
    listeners on Linux, yet is no address the operator allowed (only loopback is, in tests)."""
    write(tmp_path, "secret.csv", "Id,ChannelType,Address\nleaked,EMAIL,leak@example.com\n")

    class Files(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    class Redirect(Files):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", f"http://0.0.0.0:{files.server_port}/secret.csv")
            self.send_header("Content-Length", "0")
            self.end_headers()

    files = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    redirect = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    for web in (files, redirect):
        threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        job = import_job(
            pinpoint, app_id, f"http://127.0.0.1:{redirect.server_port}/list.csv", "CSV"
        )
    finally:
        files.shutdown()
        redirect.shutdown()
    assert job["JobStatus"] == "FAILED"
    assert "0.0.0.0" in job["Failures"][0]
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="leaked")


# --- issue 12: the pieces of failed jobs, s3:// locations checked at creation ---------------


def pieces(job: dict[str, Any]) -> tuple[str, int, int, int]:
    return job["JobStatus"], job["TotalPieces"], job["CompletedPieces"], job["FailedPieces"]


def test_a_failed_piece_counts_as_failed(
    server: Server, pinpoint: Any, app_id: str, roots: Path
) -> None:
    """CompletedPieces are the pieces "processed successfully", FailedPieces the others: an
    export that cannot write its file, an import whose location is gone before it reads, an
    import whose only file cannot be read."""
    write(roots, f"{app_id}/plain.txt", "a file, so nothing can be written under it")
    created = pinpoint.create_export_job(
        ApplicationId=app_id,
        ExportJobRequest={
            "S3UrlPrefix": (roots / app_id / "plain.txt" / "out").as_uri(),
            "RoleArn": ROLE,
        },
    )["ExportJobResponse"]
    export = wait(pinpoint, app_id, created["Id"], "export")
    assert pieces(export) == ("FAILED", 1, 0, 1), export
    assert "plain.txt" in export["Failures"][0]

    missing = import_job(pinpoint, app_id, (roots / app_id / "missing.csv").as_uri(), "CSV")
    assert pieces(missing) == ("FAILED", 1, 0, 1), missing
    assert "does not exist" in missing["Failures"][0]

    (roots / app_id / "latin1.csv").write_bytes(b"Id,ChannelType,Address\nk,EMAIL,\xff\n")
    unreadable = import_job(pinpoint, app_id, (roots / app_id / "latin1.csv").as_uri(), "CSV")
    assert pieces(unreadable) == ("FAILED", 1, 0, 1), unreadable
    assert "not UTF-8" in unreadable["Failures"][0]


def test_a_missing_bucket_is_refused_when_the_job_is_created(pinpoint: Any, app_id: str) -> None:
    with pytest.raises(
        pinpoint.exceptions.BadRequestException,
        match=r"ImportJobRequest\.S3Url 's3://no-such-bucket/x': there is no S3 bucket",
    ):
        pinpoint.create_import_job(
            ApplicationId=app_id,
            ImportJobRequest={"Format": "JSON", "S3Url": "s3://no-such-bucket/x", "RoleArn": ROLE},
        )
    with pytest.raises(
        pinpoint.exceptions.BadRequestException,
        match=r"ExportJobRequest\.S3UrlPrefix 's3://no-such-bucket/out/': there is no S3 bucket",
    ):
        pinpoint.create_export_job(
            ApplicationId=app_id,
            ExportJobRequest={"S3UrlPrefix": "s3://no-such-bucket/out/", "RoleArn": ROLE},
        )
    assert pinpoint.get_import_jobs(ApplicationId=app_id)["ImportJobsResponse"]["Item"] == []
    assert pinpoint.get_export_jobs(ApplicationId=app_id)["ExportJobsResponse"]["Item"] == []


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def keyless(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, s3_url: str
) -> Iterator[Server]:
    """A server botocore finds no AWS credentials for: none in its environment, no shared
    files, no instance metadata."""
    stack = contextlib.ExitStack()
    database_url = (
        stack.enter_context(new_postgres_database()) if request.param == "postgresql" else None
    )
    data = tmp_path_factory.mktemp(f"keyless-{request.param}")
    with pytest.MonkeyPatch.context() as environment:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            environment.delenv(name)
        running = start_server(
            data,
            database_url,
            CLARION_AWS_ENDPOINT_URL=s3_url,
            AWS_SHARED_CREDENTIALS_FILE=str(data / "no-credentials"),
            AWS_CONFIG_FILE=str(data / "no-config"),
            AWS_EC2_METADATA_DISABLED="true",
        )
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()
        stack.close()


def test_s3_without_aws_credentials_is_refused_when_the_job_is_created(
    keyless: Server, s3: Any
) -> None:
    """Not a job that fails later with "Unable to locate credentials": a 400 that says how to
    give the server credentials, though the bucket is there."""
    pinpoint = keyless.client()
    app_id = pinpoint.create_app(CreateApplicationRequest={"Name": "keyless"})[
        "ApplicationResponse"
    ]["Id"]
    bucket = f"keyless-{app_id[:12]}"
    s3.create_bucket(Bucket=bucket)
    for create, member, request in [
        (
            pinpoint.create_import_job,
            "ImportJobRequest.S3Url",
            {"ImportJobRequest": {"Format": "CSV", "S3Url": f"s3://{bucket}/in/", "RoleArn": ROLE}},
        ),
        (
            pinpoint.create_export_job,
            "ExportJobRequest.S3UrlPrefix",
            {"ExportJobRequest": {"S3UrlPrefix": f"s3://{bucket}/out/", "RoleArn": ROLE}},
        ),
    ]:
        with pytest.raises(pinpoint.exceptions.BadRequestException) as refused:
            create(ApplicationId=app_id, **request)
        message = str(refused.value)
        assert f"{member} 's3://{bucket}/" in message
        assert "no AWS credentials are configured" in message
        assert "AWS_ACCESS_KEY_ID" in message and "role" in message
    assert pinpoint.get_export_jobs(ApplicationId=app_id)["ExportJobsResponse"]["Item"] == []
