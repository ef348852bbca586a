"""Text normalisation and text-model scoring (ONNX Runtime) for TrueVoice."""
