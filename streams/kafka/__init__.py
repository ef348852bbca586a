"""The Kafka side of a worker: the embedded Tansu broker, Tansu's gaps, topic creation, and the
backlog gauge that bounds how far input may run ahead of the pipeline."""
