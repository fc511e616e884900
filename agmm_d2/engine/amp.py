"""Mixed-precision training steps: float16 with a grad scaler on CUDA, bfloat16 on the CPU.

``SOLVER.AMP.ENABLED True`` picks detectron2's ``AMPTrainer`` on CUDA (float16 autocast and a
``GradScaler``). That trainer asserts CUDA, so on the CPU the step runs under
``torch.autocast("cpu", dtype=torch.bfloat16)`` instead, without a grad scaler: bfloat16 keeps
float32's exponent range, so small gradients do not underflow and there is nothing to rescale.
The AGMM terms themselves always reduce in float32 (``agmm_d2.modeling.agmm_ops``).
"""
import logging
import time

import torch
from detectron2.engine import AMPTrainer, SimpleTrainer

__all__ = ["CPUAutocastTrainer", "build_step_trainer"]

logger = logging.getLogger(__name__)


class CPUAutocastTrainer(SimpleTrainer):
    """detectron2's ``SimpleTrainer`` whose forward pass runs under CPU autocast.

    The step is ``AMPTrainer.run_step`` with ``torch.autocast("cpu", dtype=precision)`` in place
    of ``torch.cuda.amp.autocast`` and a plain backward in place of the grad scaler's.
    """

    def __init__(self, model, data_loader, optimizer, precision: torch.dtype = torch.bfloat16):
        super().__init__(model, data_loader, optimizer)
        self.precision = precision

    def run_step(self):
        assert self.model.training, "[CPUAutocastTrainer] model was changed to eval mode!"
        start = time.perf_counter()
        data = next(self._data_loader_iter)
        data_time = time.perf_counter() - start
        if self.zero_grad_before_forward:
            self.optimizer.zero_grad()
        # Only the forward runs under autocast, as torch recommends: backward ops use the
        # dtypes the forward chose.
        with torch.autocast(device_type="cpu", dtype=self.precision):
            loss_dict = self.model(data)
            if isinstance(loss_dict, torch.Tensor):
                loss_dict = {"total_loss": loss_dict}
            losses = sum(loss_dict.values())
        if not self.zero_grad_before_forward:
            self.optimizer.zero_grad()
        losses.backward()
        self.after_backward()
        if self.async_write_metrics:
            self.concurrent_executor.submit(self._write_metrics, loss_dict, data_time,
                                            iter=self.iter)
        else:
            self._write_metrics(loss_dict, data_time)
        self.optimizer.step()


def build_step_trainer(cfg, model, data_loader, optimizer) -> SimpleTrainer:
    """The loop that runs one training step: ``SimpleTrainer`` (float32), or with
    ``SOLVER.AMP.ENABLED``, ``AMPTrainer`` (float16 + grad scaler) for a CUDA model and
    ``CPUAutocastTrainer`` (bfloat16) for a CPU one."""
    if not cfg.SOLVER.AMP.ENABLED:
        return SimpleTrainer(model, data_loader, optimizer)
    if next(model.parameters()).device.type == "cuda":
        logger.info("Mixed precision: float16 autocast with a grad scaler (AMPTrainer)")
        return AMPTrainer(model, data_loader, optimizer)
    logger.info("Mixed precision: bfloat16 autocast on the CPU, no grad scaler")
    return CPUAutocastTrainer(model, data_loader, optimizer)
