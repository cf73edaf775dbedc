"""`tiergate replay`: send a recorded workload through a gateway and report what it cost."""
