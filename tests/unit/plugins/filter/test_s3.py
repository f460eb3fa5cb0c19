from ansible_collections.microops.stack.plugins.filter.s3 import FilterModule

CHECK = FilterModule().filters()["s3_bucket_name_error"]


def test_valid_name_gives_an_empty_string():
    assert CHECK("uploads") == ""


def test_invalid_name_is_explained():
    assert CHECK("Bad_Name").startswith("bucket name 'Bad_Name' must be 3 to 63 characters")
    assert CHECK("minio") == "bucket name 'minio' is reserved by MinIO"
