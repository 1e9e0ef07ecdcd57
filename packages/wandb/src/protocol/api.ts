import { WandbError } from "../errors.ts";
import { authorizationHeader, request, type ServerTarget } from "./http.ts";
import {
  CREATE_RUN_FILES,
  type CreateRunFilesResult,
  RUN_RESUME_STATUS,
  type RunResumeStatusResult,
  UPSERT_BUCKET,
  type UpsertBucketResult,
  VIEWER,
  type ViewerResult,
} from "./operations.ts";

/** Variables of UpsertBucket as @wandb/sdk names them (`name` is the run id, `displayName` the label). */
export interface UpsertBucketVariables {
  name: string;
  project: string;
  entity: string;
  displayName?: string;
  groupName?: string;
  jobType?: string;
  notes?: string;
  tags?: string[];
  /** JSONString: {key: {value, desc}} as the Python client sends it. */
  config?: string;
  commit?: string;
  host?: string;
  program?: string;
  repo?: string;
}

/** One file's slice in a file_stream request: lines `content` start at line `offset` of the file. */
export interface FileStreamChunk {
  offset: number;
  content: string[];
}

/** The file_stream request body (wandb-core's FsTransmitData; all fields optional). */
export interface FileStreamPayload {
  files?: Record<string, FileStreamChunk>;
  complete?: boolean;
  exitcode?: number;
  preempting?: boolean;
  uploaded?: string[];
}

/** The W&B endpoints this package uses, one method each; no retry here (the caller owns the policy). */
export class WandbApi {
  constructor(readonly target: ServerTarget) {}

  async viewer(): Promise<ViewerResult> {
    return this.graphql<ViewerResult>("Viewer", VIEWER, {});
  }

  async upsertBucket(variables: UpsertBucketVariables): Promise<UpsertBucketResult> {
    return this.graphql<UpsertBucketResult>("UpsertBucket", UPSERT_BUCKET, { ...variables });
  }

  async createRunFiles(entity: string, project: string, run: string, files: string[]): Promise<CreateRunFilesResult> {
    return this.graphql<CreateRunFilesResult>("CreateRunFiles", CREATE_RUN_FILES, { entity, project, run, files });
  }

  /** Lines of history the server holds for the run (0 when it does not know the run). */
  async historyLineCount(entity: string, project: string, run: string): Promise<number> {
    const result = await this.graphql<RunResumeStatusResult>("RunResumeStatus", RUN_RESUME_STATUS, {
      project,
      entity,
      name: run,
    });
    return result.model?.bucket?.historyLineCount ?? 0;
  }

  async fileStream(entity: string, project: string, run: string, payload: FileStreamPayload): Promise<void> {
    const url = `${this.target.baseUrl}/files/${encodeURIComponent(entity)}/${encodeURIComponent(project)}/${encodeURIComponent(run)}/file_stream`;
    await request(this.target, "POST", url, JSON.stringify(payload), {
      "Content-Type": "application/json",
      Authorization: authorizationHeader(this.target.apiKey),
    });
  }

  /** PUT a file to a signed URL from CreateRunFiles; `uploadHeaders` come as "Name:Value" strings. */
  async putSigned(url: string, uploadHeaders: readonly string[], body: Uint8Array): Promise<void> {
    const headers: Record<string, string> = {};
    for (const header of uploadHeaders) {
      const colon = header.indexOf(":");
      if (colon > 0) headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
    }
    await request(this.target, "PUT", url, body, headers);
  }

  private async graphql<T>(operationName: string, query: string, variables: Record<string, unknown>): Promise<T> {
    const text = await request(
      this.target,
      "POST",
      `${this.target.baseUrl}/graphql`,
      JSON.stringify({ query, variables, operationName }),
      {
        "Content-Type": "application/json",
        Authorization: authorizationHeader(this.target.apiKey),
      },
    );
    let parsed: { data?: T; errors?: { message?: string }[] };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new WandbError("HTTP_RETRYABLE", `${operationName}: the server answered something other than JSON`, {
        got: text.slice(0, 200),
      });
    }
    if (parsed.errors !== undefined && parsed.errors.length > 0) {
      throw new WandbError(
        "GRAPHQL_ERROR",
        `${operationName} failed: ${parsed.errors.map((e) => e.message ?? "?").join("; ")}`,
      );
    }
    if (parsed.data === undefined || parsed.data === null) {
      throw new WandbError("GRAPHQL_ERROR", `${operationName}: no data in the answer`, { got: text.slice(0, 200) });
    }
    return parsed.data;
  }
}
