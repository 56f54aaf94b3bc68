"""Local launchers for the real infrastructure: Apache Kafka (KRaft) and PostgreSQL."""

from changeledger.deploy.kafka import KAFKA_VERSION, KafkaLauncher
from changeledger.deploy.postgres import PostgresLauncher
from changeledger.deploy.process import LaunchError

__all__ = ["KAFKA_VERSION", "KafkaLauncher", "LaunchError", "PostgresLauncher"]
