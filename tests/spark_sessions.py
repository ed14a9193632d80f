"""One local-mode SparkSession per test module, and its JVM stopped with it.

``SparkSession.stop`` stops the Spark context but leaves py4j's JVM running until the Python
process exits; closing the JVM's stdin (pyspark's launcher makes it exit on EOF there) ends it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any


def local_session(name: str, cores: int = 2) -> Iterator[Any]:
    """A session on ``local[cores]`` bound to 127.0.0.1, running this interpreter's Python workers."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master(f"local[{cores}]").appName(name)
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        stop_jvm(session)


def stop_jvm(session: Any) -> None:
    """Stop the session and the JVM behind it; the next session launches a new one."""
    from pyspark import SparkContext

    session.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    process = getattr(gateway, "proc", None)
    gateway.shutdown()
    SparkContext._gateway = None
    SparkContext._jvm = None
    if process is not None:
        process.stdin.close()
        process.wait(timeout=60)
