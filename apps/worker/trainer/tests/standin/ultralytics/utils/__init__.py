SETTINGS = {key: True for key in ("sync", "hub", "mlflow", "clearml", "comet", "dvc", "neptune", "raytune", "tensorboard", "wandb", "api_key")}
