#!/usr/bin/env node
/** The frankenscope command line: serve, worker, characterize, sql, export, run, localize, attention-shift, patch, transfer, variant, report. */
import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { characterizeCommand } from './cli/characterize.command.js';
import { sqlCommand } from './cli/sql.command.js';
import { exportCommand, type ExportCliOptions } from './cli/export.command.js';
import { runCommand } from './cli/run.command.js';
import { transferCommand, type TransferCliOptions } from './cli/transfer.command.js';
import { reportCommand, type ReportCliOptions } from './cli/report.command.js';
import { variantCommand, type VariantCliOptions } from './cli/variant.command.js';
import { workerCommand, type WorkerCliOptions } from './cli/worker.command.js';
import { finishAnalysis, modelId, openCliApp, probeSetId, requestOptions, type AnalysisCliOptions } from './cli/analysis.command.js';
import { loadConfig } from './config.js';
import { DEFAULT_MAX_NEW_TOKENS, FORMAT_MAX_NEW_TOKENS } from './services/analysis-options.js';
import { startServer } from './server.js';
import { relaunchWithStartEnvironment } from './threadpool.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

function cuts(value: string): number[] {
  const parts = value.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 2 || parts.some((p) => !Number.isInteger(p) || p < 0)) throw new InvalidArgumentError(`expected two layer indices like '8,20', got '${value}'`);
  return parts;
}

function intList(value: string): number[] {
  const parts = value.split(',').map((p) => Number(p.trim()));
  if (parts.some((p) => !Number.isInteger(p))) throw new InvalidArgumentError(`expected integers like '1,6,12', got '${value}'`);
  return parts;
}

function textList(value: string): string[] {
  return value.split(',').map((p) => p.trim()).filter(Boolean);
}

const SKIP_INVALID_HELP = 'a probe set given as a path is registered without the examples whose image is missing or does not decode (named on stderr) instead of being refused';

/** The options every functional analysis takes. */
function analysisOptions(command: Command): Command {
  return command
    .option('--layers <list>', 'LLM layers on the unified index, e.g. 1,6,12 (default all)', intList)
    .option('--tasks <list>', 'only these tasks, e.g. counting,ocr', textList)
    .option('--split <name>', 'only this split')
    .option('--max-examples <n>', 'at most this many examples per task', positiveInt)
    .option('--teacher-forced', 'score gold answers in one pass instead of generating')
    .option('--max-new-tokens <n>', `generation budget (default ${DEFAULT_MAX_NEW_TOKENS}; by format: ${Object.entries(FORMAT_MAX_NEW_TOKENS).map(([f, n]) => `${f} ${n}`).join(', ')})`, positiveInt)
    .option('--batch-size <n>', 'examples run together (default 8)', positiveInt)
    .option('--chat', "wrap prompts in the model's chat template (default when the model ships one)")
    .option('--no-chat', 'leave prompts as they are even when the model ships a chat template')
    .option('--skip-invalid-examples', SKIP_INVALID_HELP)
    .option('--json', 'print JSON instead of a table');
}

async function withApp<T>(paths: string[], body: (app: Awaited<ReturnType<typeof openCliApp>>) => Promise<T>): Promise<T> {
  const app = await openCliApp(loadConfig(), paths);
  try {
    return await body(app);
  } finally {
    await app.close();
  }
}

const program = new Command();
program.name('frankenscope').description('Frankenstein-style analysis of what RL changes in vision-language models');

program
  .command('serve')
  .description('start the server: dashboard at /, GraphQL at /graphql (registers the demo models as demo/base, demo/sft, demo/rl, demo/rl-freeze-*)')
  .option('-p, --port <port>', 'port (default $PORT or 4000)')
  .action(async (opts: { port?: string }) => {
    // `tsx src/cli.ts serve` started directly comes here with libuv's pool of 4 and glibc's adaptive malloc
    if (relaunchWithStartEnvironment()) return;
    const config = loadConfig(opts.port ? { ...process.env, PORT: opts.port } : process.env);
    const server = await startServer(config);
    const dashboard = server.url.replace(/graphql$/, '');
    console.log(`frankenscope: dashboard at ${dashboard}, GraphQL at ${server.url}`);
    // the token is the user's own secret: say how to use it without writing it to logs
    if (config.token) console.log(`frankenscope: access token required; open the dashboard once as ${dashboard}?token=<FRANKENSCOPE_TOKEN>, send 'Authorization: Bearer <FRANKENSCOPE_TOKEN>' to /graphql`);
    const stop = async () => {
      await server.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('characterize')
  .description('update characterization of a Base / SFT (IN) / RL trio; results are stored in the warehouse')
  .requiredOption('--base <dir>', 'base checkpoint directory')
  .requiredOption('--sft <dir>', 'SFT (IN, cold start) checkpoint directory')
  .requiredOption('--rl <dir>', 'RL checkpoint directory')
  .option('--weight-filter <text>', "only tensors whose name contains this text (e.g. 'down_proj')")
  .option('--top-k <k>', 'singular values kept per tensor (default 50)', positiveInt)
  .option('--layer-cuts <a,b>', 'region cuts over 0-based LLM layers (default N/3, 2N/3)', cuts)
  .option('--json', 'print JSON instead of a table')
  .action(async (opts) => characterizeCommand(loadConfig(), opts));

program
  .command('sql')
  .description('run one read-only SQL statement on the warehouse (through the server if one holds it)')
  .argument('<query>', 'SELECT / WITH / DESCRIBE / SHOW / SUMMARIZE / EXPLAIN')
  .option('--max-rows <n>', 'row limit (default 1000)', positiveInt)
  .option('--json', 'print JSON')
  .action(async (query: string, opts: { maxRows?: number; json?: boolean }) => sqlCommand(loadConfig(), query, opts));

program
  .command('export')
  .description('write the whole warehouse as Parquet in the lake\'s layout (docs/warehouse.md#the-parquet-lake); refused while a server holds it')
  .requiredOption('--parquet <dir>', 'a new or empty folder; it gets the whole export or nothing')
  .action(async (opts: ExportCliOptions) => exportCommand(loadConfig(), opts));

program
  .command('run')
  .description('smoke test: run one prompt through a checkpoint and print the generated text (JSON: ids, text, last logits)')
  .requiredOption('--model <dir>', 'checkpoint directory (config.json, *.safetensors, tokenizer.json)')
  .requiredOption('--prompt <text>', "prompt; '<image>' marks where the image goes")
  .option('--image <file>', 'PNG or JPEG; repeat for several images, one per <image> marker in order', (file: string, files: string[] = []) => [...files, file])
  .option('--max-new-tokens <n>', 'generation budget', positiveInt, DEFAULT_MAX_NEW_TOKENS)
  .option('--chat', "wrap the prompt in the model's chat template as one user turn (as apply_chat_template with add_generation_prompt)")
  .option('--json', 'print one JSON object: promptTokenIds, generatedTokenIds, text, finish, lastLogits, timings (seconds: load, vision, prefill, decode), peakRssBytes')
  .action(async (opts) => runCommand(opts));

analysisOptions(
  program
    .command('localize')
    .description('functional localization: visual-token swap (METHOD 1a) or zero ablation (1b), per layer')
    .requiredOption('--model <id|dir>', 'registered checkpoint id or directory')
    .requiredOption('--probes <id|path>', 'registered probe set id, or a probe folder / .jsonl file')
    .requiredOption('--method <swap|ablate>', 'swap: visual-token K/V swapping; ablate: zero ablation'),
).action(async (opts: AnalysisCliOptions & { model: string; probes: string; method: string }) => {
  const method = opts.method === 'swap' ? 'VISUAL_TOKEN_SWAP' : opts.method === 'ablate' ? 'ZERO_ABLATION' : null;
  if (!method) throw new InvalidArgumentError(`--method must be swap or ablate, got '${opts.method}'`);
  await withApp([opts.model, opts.probes], async (app) => {
    const handle = await app.services.analyses.localization(await modelId(app, opts.model), await probeSetId(app, opts.probes, opts), method, requestOptions(opts));
    await finishAnalysis(app, handle, opts.json);
  });
});

analysisOptions(
  program
    .command('attention-shift')
    .description('attention mass from text to visual tokens per layer, model A vs model B (METHOD 1c)')
    .requiredOption('--a <id|dir>', 'model A (e.g. IN)')
    .requiredOption('--b <id|dir>', 'model B (e.g. RL)')
    .requiredOption('--probes <id|path>', 'probe set with images'),
).action(async (opts: AnalysisCliOptions & { a: string; b: string; probes: string }) =>
  withApp([opts.a, opts.b, opts.probes], async (app) => {
    const handle = await app.services.analyses.attentionShift(await modelId(app, opts.a), await modelId(app, opts.b), await probeSetId(app, opts.probes, opts), requestOptions(opts));
    await finishAnalysis(app, handle, opts.json);
  }),
);

analysisOptions(
  program
    .command('patch')
    .description("activation patching: the source's residual stream after layer L patched into the target (METHOD 1c)")
    .requiredOption('--target <id|dir>', 'the patched model (e.g. IN)')
    .requiredOption('--source <id|dir>', 'the donor model (e.g. RL)')
    .requiredOption('--probes <id|path>', 'probe set'),
).action(async (opts: AnalysisCliOptions & { target: string; source: string; probes: string }) =>
  withApp([opts.target, opts.source, opts.probes], async (app) => {
    const handle = await app.services.analyses.activationPatching(await modelId(app, opts.target), await modelId(app, opts.source), await probeSetId(app, opts.probes, opts), requestOptions(opts));
    await finishAnalysis(app, handle, opts.json);
  }),
);

analysisOptions(
  program
    .command('transfer')
    .description("the reference's transferability table: IN, RL and the six region splices in each setting (METHOD 3)")
    .requiredOption('--sft <id|dir>', 'IN (cold-start) model')
    .requiredOption('--rl <id|dir>', 'RL model')
    .requiredOption('--probes <id|path>', 'probe set with perception / alignment / reasoning splits')
    .option('--layer-cuts <a,b>', 'region cuts over 0-based LLM layers (default N/3, 2N/3)', cuts),
).action(async (opts: TransferCliOptions) => transferCommand(loadConfig(), opts));

analysisOptions(
  program
    .command('variant')
    .description('a merge variant from a mergekit config (.yml) or a frankenscope recipe (.json): resolved (fingerprint, notes), scored in every setting of a probe set, and/or exported (docs/merging.md)')
    .requiredOption('--recipe <file>', "mergekit YAML (.yml, .yaml) or recipe JSON (.json); its model names are registered checkpoint ids or checkpoint directories (registered on the fly)")
    .option('--probes <id|path>', 'score the variant on this probe set in every setting it supports')
    .option('--export <dir>', 'write the variant as a checkpoint directory (with mergekit_config.yml when it has a mergekit equivalent) and register it')
    .option('--dtype <F32|F16|BF16>', "stored dtype of --export (default: the config's out_dtype or dtype, else BF16)"),
).action(async (opts: VariantCliOptions) => variantCommand(loadConfig(), opts));

program
  .command('report')
  .description('run every analysis of a trio and write one self-contained HTML report (docs/report.md)')
  .requiredOption('--base <id|dir>', 'Base model')
  .requiredOption('--sft <id|dir>', 'IN (cold-start) model')
  .requiredOption('--rl <id|dir>', 'RL model')
  .requiredOption('--probes <id|path>', 'probe set with perception / alignment / reasoning splits')
  .option('--pairs <id|path>', 'reference pair set for the swap and attention shift (default --probes)')
  .option('--frozen <list>', 'RL checkpoints trained with a third frozen, comma-separated (necessity)', textList)
  .option('--layer-cuts <a,b>', 'region cuts over 0-based LLM layers (default N/3, 2N/3)', cuts)
  .option('--max-examples <n>', 'at most this many examples per task', positiveInt)
  .option('--max-new-tokens <n>', `generation budget (default ${DEFAULT_MAX_NEW_TOKENS}: worked solutions need room)`, positiveInt)
  .option('--out <file>', 'where the HTML goes', 'report.html')
  .option('--skip-invalid-examples', SKIP_INVALID_HELP)
  .action(async (opts: ReportCliOptions) => reportCommand(loadConfig(), opts));

program
  .command('worker')
  .description('compute work units from the queue of a server started with FRANKENSCOPE_REDIS_URL (docs/scaling.md); runs until stopped')
  .option('--redis <url>', 'the queue, e.g. redis://10.0.0.5:6379 (default $FRANKENSCOPE_REDIS_URL)')
  .option('--concurrency <n>', 'units at once, each in its own model thread (default 1)', positiveInt)
  .option('--threads <n>', 'intra-op threads per model thread (default $FRANKENSCOPE_ENGINE_THREADS, else every core)', positiveInt)
  .option('--name <name>', "this worker's name in run messages (default host:pid)")
  .option('--lock-ms <ms>', "how long a unit's lock lasts unrenewed: a killed worker's unit moves on after about this long (default 30000)", positiveInt)
  .option('--stalled-ms <ms>', 'how often to look for units whose worker died (default 30000)', positiveInt)
  .option('--quiet', 'no line per unit')
  .action(async (opts: WorkerCliOptions) => {
    // a worker holds widened weights as the server does: the same start environment
    if (relaunchWithStartEnvironment()) return;
    await workerCommand(loadConfig(), opts);
  });

program.parseAsync(process.argv).catch((err: Error) => {
  console.error(`frankenscope: ${err.message}`);
  process.exit(1);
});
