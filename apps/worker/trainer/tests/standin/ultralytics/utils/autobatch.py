"""Stand-in of ultralytics.utils.autobatch (8.3.186): the trainer calls check_train_batch_size, which
calls this module's `autobatch` (train.py replaces it); Ultralytics' own falls back to 16 outside 1–1024."""


def check_train_batch_size(model, imgsz=640, amp=True, batch=-1, max_num_obj=1):
    return autobatch(model, imgsz, fraction=batch if 0.0 < batch < 1.0 else 0.6, max_num_obj=max_num_obj)


def autobatch(model, imgsz=640, fraction=0.60, batch_size=16, max_num_obj=1):
    return batch_size
