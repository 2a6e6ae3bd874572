import type { BaseWorld } from "../api-world";
import * as compare from "./compare";
import * as models from "./models";
import * as datasets from "./datasets";
import * as jobPage from "./job-page";
import * as resources from "./resources";

/** The domains with route lines of their own; each adds its objects to the world under its key. */
export const DOMAINS = { compare, models, datasets, jobPage, resources } as const;

export async function seedDomains(base: BaseWorld) {
  return {
    compare: await compare.seed(base),
    models: await models.seed(base),
    datasets: await datasets.seed(base),
    jobPage: await jobPage.seed(base),
    resources: await resources.seed(base),
  };
}

export const domainSuccess = () => Object.assign({}, ...Object.values(DOMAINS).map((d) => d.success));
export const domainMatrix = () => Object.assign({}, ...Object.values(DOMAINS).map((d) => d.matrix));
