"""Training on factory data: SFT and multi-turn DPO (mDPO) with TRL/PEFT/DeepSpeed."""
