/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment Stats on UpdateStats {\n  froNorm\n  relativeNorm\n  spectralNorm\n  nuclearNorm\n  stableRank\n  effectiveRank\n  conditionNumber\n  logVolume\n  singularValues\n  froNormSum\n}\n\nquery Characterization($base: ID!, $sft: ID!, $rl: ID!, $options: CharacterizationOptions, $waitSeconds: Float) {\n  characterization(\n    base: $base\n    sft: $sft\n    rl: $rl\n    options: $options\n    waitSeconds: $waitSeconds\n  ) {\n    status\n    progress\n    run {\n      id\n      status\n      progress\n      message\n      error\n      startedAt\n      finishedAt\n    }\n    layers {\n      index\n      section\n      region\n      tensorCount\n      cosine\n      subspaceOverlap\n      sft {\n        ...Stats\n      }\n      rl {\n        ...Stats\n      }\n    }\n    regions {\n      key\n      tensorCount\n      sft {\n        ...Stats\n      }\n      rl {\n        ...Stats\n      }\n    }\n  }\n}\n\nquery CharacterizationTensors($base: ID!, $sft: ID!, $rl: ID!, $options: CharacterizationOptions, $section: Section, $layer: Int, $first: Int, $after: String) {\n  characterization(\n    base: $base\n    sft: $sft\n    rl: $rl\n    options: $options\n    waitSeconds: 0\n  ) {\n    status\n    tensors(section: $section, layer: $layer, first: $first, after: $after) {\n      name\n      index\n      section\n      component\n      region\n      shape\n      cosine\n      subspaceOverlap\n      sft {\n        ...Stats\n      }\n      rl {\n        ...Stats\n      }\n    }\n  }\n}": typeof types.StatsFragmentDoc,
    "query Checkpoints {\n  checkpoints {\n    id\n    name\n    path\n    fingerprint\n    architecture\n    numLayers\n    numVisionLayers\n    parameterCount\n    dtype\n  }\n}\n\nmutation RegisterCheckpoint($path: String!, $name: String) {\n  registerCheckpoint(path: $path, name: $name) {\n    id\n    fingerprint\n    numLayers\n    numVisionLayers\n  }\n}": typeof types.CheckpointsDocument,
    "query Run($id: ID!) {\n  run(id: $id) {\n    id\n    kind\n    status\n    progress\n    message\n    params\n    inputs\n    error\n  }\n}\n\nquery Sql($query: String!, $maxRows: Int) {\n  sql(query: $query, maxRows: $maxRows) {\n    columns {\n      name\n      type\n    }\n    rows\n    truncated\n  }\n}": typeof types.RunDocument,
};
const documents: Documents = {
    "fragment Stats on UpdateStats {\n  froNorm\n  relativeNorm\n  spectralNorm\n  nuclearNorm\n  stableRank\n  effectiveRank\n  conditionNumber\n  logVolume\n  singularValues\n  froNormSum\n}\n\nquery Characterization($base: ID!, $sft: ID!, $rl: ID!, $options: CharacterizationOptions, $waitSeconds: Float) {\n  characterization(\n    base: $base\n    sft: $sft\n    rl: $rl\n    options: $options\n    waitSeconds: $waitSeconds\n  ) {\n    status\n    progress\n    run {\n      id\n      status\n      progress\n      message\n      error\n      startedAt\n      finishedAt\n    }\n    layers {\n      index\n      section\n      region\n      tensorCount\n      cosine\n      subspaceOverlap\n      sft {\n        ...Stats\n      }\n      rl {\n        ...Stats\n      }\n    }\n    regions {\n      key\n      tensorCount\n      sft {\n        ...Stats\n      }\n      rl {\n        ...Stats\n      }\n    }\n  }\n}\n\nquery CharacterizationTensors($base: ID!, $sft: ID!, $rl: ID!, $options: CharacterizationOptions, $section: Section, $layer: Int, $first: Int, $after: String) {\n  characterization(\n    base: $base\n    sft: $sft\n    rl: $rl\n    options: $options\n    waitSeconds: 0\n  ) {\n    status\n    tensors(section: $section, layer: $layer, first: $first, after: $after) {\n      name\n      index\n      section\n      component\n      region\n      shape\n      cosine\n      subspaceOverlap\n      sft {\n        ...Stats\n      }\n      rl {\n        ...Stats\n      }\n    }\n  }\n}": types.StatsFragmentDoc,
    "query Checkpoints {\n  checkpoints {\n    id\n    name\n    path\n    fingerprint\n    architecture\n    numLayers\n    numVisionLayers\n    parameterCount\n    dtype\n  }\n}\n\nmutation RegisterCheckpoint($path: String!, $name: String) {\n  registerCheckpoint(path: $path, name: $name) {\n    id\n    fingerprint\n    numLayers\n    numVisionLayers\n  }\n}": types.CheckpointsDocument,
    "query Run($id: ID!) {\n  run(id: $id) {\n    id\n    kind\n    status\n    progress\n    message\n    params\n    inputs\n    error\n  }\n}\n\nquery Sql($query: String!, $maxRows: Int) {\n  sql(query: $query, maxRows: $maxRows) {\n    columns {\n      name\n      type\n    }\n    rows\n    truncated\n  }\n}": types.RunDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment Stats on UpdateStats {\n  froNorm\n  relativeNorm\n  spectralNorm\n  nuclearNorm\n  stableRank\n  effectiveRank\n  conditionNumber\n  logVolume\n  singularValues\n  froNormSum\n}\n\nquery Characterization($base: ID!, $sft: ID!, $rl: ID!, $options: CharacterizationOptions, $waitSeconds: Float) {\n  characterization(\n    base: $base\n    sft: $sft\n    rl: $rl\n    options: $options\n    waitSeconds: $waitSeconds\n  ) {\n    status\n    progress\n    run {\n      id\n      status\n      progress\n      message\n      error\n      startedAt\n      finishedAt\n    }\n    layers {\n      index\n      section\n      region\n      tensorCount\n      cosine\n      subspaceOverlap\n      sft {\n        ...Stats\n      }\n      rl {\n        ...Stats\n      }\n    }\n    regions {\n      key\n      tensorCount\n      sft {\n        ...Stats\n      }\n      rl {\n        ...Stats\n      }\n    }\n  }\n}\n\nquery CharacterizationTensors($base: ID!, $sft: ID!, $rl: ID!, $options: CharacterizationOptions, $section: Section, $layer: Int, $first: Int, $after: String) {\n  characterization(\n    base: $base\n    sft: $sft\n    rl: $rl\n    options: $options\n    waitSeconds: 0\n  ) {\n    status\n    tensors(section: $section, layer: $layer, first: $first, after: $after) {\n      name\n      index\n      section\n      component\n      region\n      shape\n      cosine\n      subspaceOverlap\n      sft {\n        ...Stats\n      }\n      rl {\n        ...Stats\n      }\n    }\n  }\n}"): (typeof documents)["fragment Stats on UpdateStats {\n  froNorm\n  relativeNorm\n  spectralNorm\n  nuclearNorm\n  stableRank\n  effectiveRank\n  conditionNumber\n  logVolume\n  singularValues\n  froNormSum\n}\n\nquery Characterization($base: ID!, $sft: ID!, $rl: ID!, $options: CharacterizationOptions, $waitSeconds: Float) {\n  characterization(\n    base: $base\n    sft: $sft\n    rl: $rl\n    options: $options\n    waitSeconds: $waitSeconds\n  ) {\n    status\n    progress\n    run {\n      id\n      status\n      progress\n      message\n      error\n      startedAt\n      finishedAt\n    }\n    layers {\n      index\n      section\n      region\n      tensorCount\n      cosine\n      subspaceOverlap\n      sft {\n        ...Stats\n      }\n      rl {\n        ...Stats\n      }\n    }\n    regions {\n      key\n      tensorCount\n      sft {\n        ...Stats\n      }\n      rl {\n        ...Stats\n      }\n    }\n  }\n}\n\nquery CharacterizationTensors($base: ID!, $sft: ID!, $rl: ID!, $options: CharacterizationOptions, $section: Section, $layer: Int, $first: Int, $after: String) {\n  characterization(\n    base: $base\n    sft: $sft\n    rl: $rl\n    options: $options\n    waitSeconds: 0\n  ) {\n    status\n    tensors(section: $section, layer: $layer, first: $first, after: $after) {\n      name\n      index\n      section\n      component\n      region\n      shape\n      cosine\n      subspaceOverlap\n      sft {\n        ...Stats\n      }\n      rl {\n        ...Stats\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Checkpoints {\n  checkpoints {\n    id\n    name\n    path\n    fingerprint\n    architecture\n    numLayers\n    numVisionLayers\n    parameterCount\n    dtype\n  }\n}\n\nmutation RegisterCheckpoint($path: String!, $name: String) {\n  registerCheckpoint(path: $path, name: $name) {\n    id\n    fingerprint\n    numLayers\n    numVisionLayers\n  }\n}"): (typeof documents)["query Checkpoints {\n  checkpoints {\n    id\n    name\n    path\n    fingerprint\n    architecture\n    numLayers\n    numVisionLayers\n    parameterCount\n    dtype\n  }\n}\n\nmutation RegisterCheckpoint($path: String!, $name: String) {\n  registerCheckpoint(path: $path, name: $name) {\n    id\n    fingerprint\n    numLayers\n    numVisionLayers\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Run($id: ID!) {\n  run(id: $id) {\n    id\n    kind\n    status\n    progress\n    message\n    params\n    inputs\n    error\n  }\n}\n\nquery Sql($query: String!, $maxRows: Int) {\n  sql(query: $query, maxRows: $maxRows) {\n    columns {\n      name\n      type\n    }\n    rows\n    truncated\n  }\n}"): (typeof documents)["query Run($id: ID!) {\n  run(id: $id) {\n    id\n    kind\n    status\n    progress\n    message\n    params\n    inputs\n    error\n  }\n}\n\nquery Sql($query: String!, $maxRows: Int) {\n  sql(query: $query, maxRows: $maxRows) {\n    columns {\n      name\n      type\n    }\n    rows\n    truncated\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;