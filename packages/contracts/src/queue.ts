/** BullMQ queue that carries training jobs from the web app (producer) to the workers (consumers). */
export const TRAINING_QUEUE = "training";
