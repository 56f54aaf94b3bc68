"""Apache Kafka for a machine without Docker: one KRaft node from Maven Central's jars.

`resolve()` asks Maven for `org.apache.kafka:kafka_2.13` and its runtime dependencies and
copies them into a cache, once per version. `start()` formats the storage on first use,
starts the broker in the background and returns once it has accepted a produce and a fetch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

from changeledger.deploy.process import LaunchError, ServerProcess

KAFKA_VERSION = "4.1.1"
LOG4J_VERSION = "2.24.3"
READY_TOPIC = "__changeledger_ready"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.changeledger</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>{kafka}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = {level}
logger.state.name = state.change.logger
logger.state.level = warn
"""


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "changeledger"
    return Path(os.environ.get("CHANGELEDGER_CACHE_DIR", default))


def resolve(version: str = KAFKA_VERSION) -> Path:
    """The folder holding the broker's jars, resolved from Maven Central on first use."""
    libs = cache_dir() / f"kafka-{version}" / "libs"
    if (libs / f"kafka_2.13-{version}.jar").exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LaunchError("Maven (mvn) is needed to fetch Apache Kafka's jars; install it first")
    work = libs.parent
    work.mkdir(parents=True, exist_ok=True)
    pom = work / "pom.xml"
    pom.write_text(_POM.format(kafka=version, log4j=LOG4J_VERSION))
    staging = work / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    result = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise LaunchError(f"Maven could not resolve Kafka {version}:\n{result.stdout[-4000:]}")
    staging.rename(libs)  # only a complete set of jars ever becomes the cache
    return libs


class KafkaLauncher:
    """One broker+controller node listening on 127.0.0.1."""

    def __init__(
        self,
        home: Path,
        port: int = 9092,
        controller_port: int = 9093,
        version: str = KAFKA_VERSION,
        heap: str = "512m",
    ) -> None:
        self.home = home
        self.port = port
        self.controller_port = controller_port
        self.version = version
        self.heap = heap
        self.process = ServerProcess("kafka", home)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    def start(self, timeout: float = 120.0) -> None:
        libs = resolve(self.version)
        self.home.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        if not (self.data_dir / "meta.properties").exists():
            self._format(libs, config)
        java = _java()
        self.process.spawn(
            [
                java,
                f"-Xms{self.heap}",
                f"-Xmx{self.heap}",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                f"-Dchangeledger.kafka={self.home}",  # lets a cleanup find strays
                f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
                "-cp",
                f"{libs}/*",
                "kafka.Kafka",
                str(config),
            ]
        )
        self.process.wait_until(self.accepts_produce_and_fetch, timeout)

    def stop(self) -> None:
        self.process.stop(timeout=30.0)

    def kill(self) -> None:
        self.process.kill()

    def pause(self) -> None:
        self.process.pause()

    def resume(self) -> None:
        self.process.resume()

    @property
    def running(self) -> bool:
        return self.process.pid is not None

    def accepts_produce_and_fetch(self) -> bool:
        # Connection errors are the expected answer until the broker is up: keep them quiet.
        quiet = logging.getLogger("aiokafka")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            return asyncio.run(_round_trip(self.bootstrap_servers))
        except Exception:
            return False
        finally:
            quiet.setLevel(level)

    def _write_config(self) -> Path:
        (self.home / "log4j2.properties").write_text(
            _LOG4J2.format(log=self.home / "server.log", level="INFO")
        )
        config = self.home / "server.properties"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "3",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # Topics are created explicitly by the services, never by accident.
            "auto.create.topics.enable": "false",
            # One node: no reason to wait for more consumers before the first rebalance.
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.hours": "-1",
        }
        config.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        return config

    def _format(self, libs: Path, config: Path) -> None:
        java = _java()
        classpath = f"{libs}/*"
        cluster_id = subprocess.run(
            [java, "-cp", classpath, "kafka.tools.StorageTool", "random-uuid"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-1]
        result = subprocess.run(
            [
                java,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "-t",
                cluster_id,
                "-c",
                str(config),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise LaunchError(f"formatting Kafka's storage failed:\n{result.stdout}{result.stderr}")


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java:
        raise LaunchError("Java 17 or newer is needed to run Apache Kafka")
    return java


async def _round_trip(bootstrap_servers: str, timeout: float = 10.0) -> bool:
    """Create the probe topic if needed, produce one record and fetch it back."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5000)
    try:
        await admin.start()
        if READY_TOPIC not in await admin.list_topics():
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(READY_TOPIC, 1, 1)])
    finally:
        await admin.close()

    # Started inside `try`: a start that fails (the broker is still starting) is stopped
    # too, or the client is left unclosed.
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, acks="all", request_timeout_ms=5000
    )
    try:
        await producer.start()
        meta = await asyncio.wait_for(producer.send_and_wait(READY_TOPIC, b"ready"), timeout)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    try:
        await consumer.start()
        partition = TopicPartition(READY_TOPIC, meta.partition)
        consumer.assign([partition])
        consumer.seek(partition, meta.offset)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(partition, timeout_ms=1000)
            if any(r.offset == meta.offset for r in batch.get(partition, [])):
                return True
        return False
    finally:
        await consumer.stop()
