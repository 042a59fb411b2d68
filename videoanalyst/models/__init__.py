"""Networks: backbones and the task models built on them."""
