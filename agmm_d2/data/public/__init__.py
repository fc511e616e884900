"""Public datasets' own annotations turned into the label files the loaders read: the VOC
"What's the point" clicks and ScribbleSup scribbles, VOC train_aug from SBD, Cityscapes train ids
and clicks. The commands that run them are in ``agmm_d2.cli``."""
