"""Build pipelines from YAML, run them over streams, and profile every stage."""
