// GraphQL documents sent to {base}/graphql. Viewer and UpsertBucket match @wandb/sdk 0.5.1 word for word
// (field selection included), so a server that accepts that SDK accepts these. CreateRunFiles and
// RunResumeStatus follow the Python client (wandb/sdk/internal/internal_api.py); neither is documented.

export const VIEWER = `query Viewer {
  viewer {
    id
    entity
    flags
    teams {
      edges {
        node {
          name
        }
      }
    }
  }
}`;

export const UPSERT_BUCKET = `mutation UpsertBucket(
  $id: String
  $name: String
  $project: String
  $entity: String
  $groupName: String
  $description: String
  $displayName: String
  $notes: String
  $commit: String
  $config: JSONString
  $host: String
  $debug: Boolean
  $program: String
  $repo: String
  $jobType: String
  $state: String
  $sweep: String
  $tags: [String!]
  $summaryMetrics: JSONString
) {
  upsertBucket(
    input: {
      id: $id
      name: $name
      groupName: $groupName
      modelName: $project
      entityName: $entity
      description: $description
      displayName: $displayName
      notes: $notes
      config: $config
      commit: $commit
      host: $host
      debug: $debug
      jobProgram: $program
      jobRepo: $repo
      jobType: $jobType
      state: $state
      sweep: $sweep
      tags: $tags
      summaryMetrics: $summaryMetrics
    }
  ) {
    bucket {
      id
      name
      displayName
      description
      config
      sweepName
      project {
        id
        name
        entity {
          id
          name
        }
      }
    }
    inserted
  }
}`;

export const CREATE_RUN_FILES = `mutation CreateRunFiles($entity: String!, $project: String!, $run: String!, $files: [String!]!) {
  createRunFiles(input: {entityName: $entity, projectName: $project, runName: $run, files: $files}) {
    runID
    uploadHeaders
    files {
      name
      uploadUrl
    }
  }
}`;

export const RUN_RESUME_STATUS = `query RunResumeStatus($project: String, $entity: String, $name: String!) {
  model(name: $project, entityName: $entity) {
    id
    name
    entity {
      id
      name
    }
    bucket(name: $name, missingOk: true) {
      id
      name
      historyLineCount
      eventsLineCount
      logLineCount
      summaryMetrics
    }
  }
}`;

export interface ViewerResult {
  viewer: { id: string; entity: string | null } | null;
}
export interface UpsertBucketResult {
  upsertBucket: {
    bucket: {
      id: string;
      name: string;
      displayName: string | null;
      project: { name: string; entity: { name: string } };
    } | null;
  } | null;
}
export interface CreateRunFilesResult {
  createRunFiles: {
    runID: string | null;
    uploadHeaders: string[] | null;
    files: { name: string; uploadUrl: string }[];
  } | null;
}
export interface RunResumeStatusResult {
  model: { bucket: { historyLineCount: number | null } | null } | null;
}
