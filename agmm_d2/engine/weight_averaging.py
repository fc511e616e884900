"""Stochastic weight averaging (SOLVER.SWA): the trained model is the mean of its weights over
the last part of the schedule, which varies less from seed to seed than the last iterate."""
import logging

import torch
from detectron2.engine import HookBase
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import AveragedModel

__all__ = ["WeightAveraging"]

logger = logging.getLogger(__name__)


class WeightAveraging(HookBase):
    """Average the model's parameters after every step from ``start_iter`` on (equal weights,
    ``torch.optim.swa_utils.AveragedModel``), and load the average into the model after the last
    step.

    Register it before detectron2's PreciseBN, PeriodicCheckpointer and EvalHook (Trainer does):
    on the last step they then re-estimate the batch-norm statistics for the averaged weights,
    save them as ``model_final.pth`` and evaluate them. Buffers (the batch-norm statistics) are
    not averaged. The running average is part of the checkpoints once it has started, so
    ``--resume`` continues it.
    """

    def __init__(self, model: torch.nn.Module, start_iter: int):
        """model: the trained module (a DistributedDataParallel wrapper is looked through);
        start_iter: the first iteration whose weights (after its step) enter the average."""
        self._model = model.module if isinstance(model, DistributedDataParallel) else model
        self._start_iter = start_iter
        self._average = AveragedModel(self._model, use_buffers=False)

    @property
    def num_averaged(self) -> int:
        """How many iterations' weights the average holds."""
        return int(self._average.n_averaged)

    def after_step(self):
        iteration = self.trainer.iter
        if iteration < self._start_iter:
            return
        if self.num_averaged == 0 and iteration > self._start_iter:
            logger.info("SOLVER.SWA: averaging from iteration %d (resumed without an average), "
                        "not from iteration %d", iteration, self._start_iter)
        self._average.update_parameters(self._model)
        if iteration + 1 == self.trainer.max_iter:
            with torch.no_grad():
                for mean, param in zip(self._average.module.parameters(),
                                       self._model.parameters()):
                    param.copy_(mean)
            logger.info("SOLVER.SWA: the model now holds the mean of the weights of iterations "
                        "%d-%d (%d steps)", iteration + 1 - self.num_averaged, iteration,
                        self.num_averaged)

    def state_dict(self):
        # Empty until the average starts: earlier checkpoints stay as small as without SWA.
        return self._average.state_dict() if self.num_averaged else {}

    def load_state_dict(self, state_dict):
        self._average.load_state_dict(state_dict)
