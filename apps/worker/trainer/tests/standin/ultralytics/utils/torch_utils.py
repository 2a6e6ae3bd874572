"""Stand-in of ultralytics.utils.torch_utils.profile_ops: GPU memory of each batch size from STANDIN's
`gpu` knobs, linear as measured (base_gb + per_image_gb · batch), None from `oom_from` on."""
import json
import os


def profile_ops(input, ops, n=10, device=None, max_num_obj=0):
    gpu = json.loads(os.environ.get("STANDIN", "{}"))["gpu"]
    if gpu.get("raise"):
        raise RuntimeError(gpu["raise"])
    out = []
    for x in input:
        b = x.shape[0]
        out.append(None if gpu.get("oom_from") and b >= gpu["oom_from"] else [0, 0, gpu.get("base_gb", 0.2) + gpu["per_image_gb"] * b, 1.0, 2.0])
    return out
