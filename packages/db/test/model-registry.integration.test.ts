import { afterAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { createDb, lockRegisteredModel } from "@wyolo/db";

// Registered model names are unique (they are MLflow's keys): a project whose default name another
// project's model already holds gets a suffixed name instead of failing its job's SUCCEEDED transition.
const db = createDb(process.env.DATABASE_URL!);
afterAll(() => db.$disconnect());

describe("lockRegisteredModel", () => {
  it("creates the model once per project, and suffixes a name another project's model holds", async () => {
    const tag = randomBytes(4).toString("hex");
    const team = await db.team.create({ data: { name: `T ${tag}`, slug: `t-${tag}` }, select: { id: true, slug: true } });
    const first = await db.project.create({
      data: { teamId: team.id, name: "A", slug: "a", modelName: `${team.slug}/b` },
      select: { id: true, slug: true, modelName: true, description: true },
    });
    const second = await db.project.create({
      data: { teamId: team.id, name: "B", slug: "b" },
      select: { id: true, slug: true, modelName: true, description: true },
    });
    const one = await db.$transaction((tx) => lockRegisteredModel(tx, { ...first, team }));
    expect(one).toMatchObject({ name: `${team.slug}/b`, created: true });
    const again = await db.$transaction((tx) => lockRegisteredModel(tx, { ...first, team }));
    expect(again).toEqual({ ...one, created: false });

    const two = await db.$transaction((tx) => lockRegisteredModel(tx, { ...second, team }));
    expect(two.created).toBe(true);
    expect(two.name).toBe(`${team.slug}/b-${second.id.slice(-8)}`);
    expect(await db.registeredModel.count({ where: { project: { teamId: team.id } } })).toBe(2);
    expect(await db.registryCall.count({ where: { model: { project: { teamId: team.id } }, kind: "create_model" } })).toBe(2);
  });
});
