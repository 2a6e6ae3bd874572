/**
 * The environment a trainer runs with: the worker's own, minus its secrets. The trainer runs
 * code that users steer (configs, dataset YAMLs), so it gets no database or Redis URL, no
 * MLflow settings (the worker logs to MLflow; a second run from Ultralytics would be wrong) or
 * S3 credentials, nothing that looks like a password, token or key.
 */
const SECRET =
  /^(DATABASE_URL|REDIS_URL|NEXTAUTH_.*|ADMIN_PASSWORD|MLFLOW_.*|S3_.*|AWS_.*|OIDC_.*)$|SECRET|PASSWORD|TOKEN|PRIVATE_KEY|CREDENTIAL/i;

export function trainerEnv(base: NodeJS.ProcessEnv, own: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined && !SECRET.test(key)) env[key] = value;
  return { ...env, ...own, PYTHONUNBUFFERED: "1" };
}
