"""Prediction with an exported model (TorchScript or ONNX Runtime) and the file handling that
every backend shares. Importable without detectron2: keep detectron2 imports out of this
package's ``__init__`` and out of ``exported``, ``files`` and ``sidecar``.
"""
