-- The MLflow tracking server keeps its runs in a database of its own on the same Postgres.
CREATE DATABASE mlflow;
