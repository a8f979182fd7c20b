"""OTTL, the OpenTelemetry Transformation Language, for Python."""
