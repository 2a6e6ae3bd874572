import "server-only";
import { datasetBlobKey, type datasetItemsQuerySchema, itemLabelSchema, type DatasetItemsAnswer, type DatasetTask } from "@wyolo/contracts";
import { z } from "zod";
import type { Prisma } from "@wyolo/db";
import { db } from "../db";
import type { SessionUser } from "../auth/session";
import { versionAccess } from "./dataset-access";
import { signGet } from "./object-store";

const labelsSchema = z.array(itemLabelSchema);

type Query = z.infer<typeof datasetItemsQuerySchema>;

/**
 * A page of a version's images for the preview, by path, with their labels and a presigned GET each
 * (valid at most 5 minutes). Not audited one by one: a page is a browse of the team's own data, and
 * the links expire before they could be passed around usefully.
 */
export async function listItems(user: SessionUser, versionId: string, query: Query): Promise<DatasetItemsAnswer> {
  const { team } = await versionAccess(user, versionId, "dataset.read");
  const where: Prisma.DatasetItemWhereInput = {
    versionId,
    kind: "image",
    ...(query.split ? { split: query.split } : {}),
    ...(query.classId !== undefined ? { classIds: { has: query.classId } } : {}),
    ...(query.errors ? { errorCount: { gt: 0 } } : {}),
    ...(query.cursor ? { path: { gt: query.cursor } } : {}),
  };
  const [rows, version] = await Promise.all([
    db.datasetItem.findMany({
      where,
      orderBy: { path: "asc" },
      take: query.limit + 1,
      select: {
        path: true,
        sha256: true,
        size: true,
        split: true,
        width: true,
        height: true,
        labels: true,
        classIds: true,
        errorCount: true,
      },
    }),
    db.datasetVersion.findUniqueOrThrow({ where: { id: versionId }, select: { classNames: true, task: true } }),
  ]);
  const page = rows.slice(0, query.limit);
  const items = await Promise.all(
    page.map(async (r) => {
      const labels = labelsSchema.safeParse(r.labels ?? []);
      return {
        path: r.path,
        split: r.split,
        width: r.width,
        height: r.height,
        size: Number(r.size),
        labels: labels.success ? labels.data : [],
        classIds: r.classIds,
        errorCount: r.errorCount,
        url: await signGet(datasetBlobKey(team.id, r.sha256)),
      };
    }),
  );
  return {
    items,
    nextCursor: rows.length > query.limit ? page[page.length - 1]!.path : null,
    classNames: Array.isArray(version.classNames) ? version.classNames.map(String) : [],
    task: (version.task as DatasetTask | null) ?? null,
  };
}
