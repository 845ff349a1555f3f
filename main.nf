#!/usr/bin/env nextflow
// mlbench over several machines: the jobs of `mlbench plan` fan out, one
// `mlbench run` each (one task with its reference and implementations, on
// one node, so that every ratio compares results of the same machine), then
// `mlbench merge` makes one results directory of them. Settings, profiles
// (local, slurm) and the GPU partition are in nextflow.config; README,
// "Running on a cluster", says how to run it.

nextflow.enable.dsl = 2

import groovy.json.JsonSlurper

// The plan comes from the CLI's own selection logic (the same as `run`),
// made again on every run, -resume too: the jobs it lists are what is cached.
process PLAN {
    executor 'local'
    cache false
    output:
    path 'plan.json'

    script:
    """
    "${params.mlbench}" --root "${params.root}" plan --task '${params.task}' --impl '${params.impl}' \\
        --size '${params.size}' --format json > plan.json
    """
}

// One job (pipeline/job.sh): prepare its data when asked, then one
// `mlbench run`. A run that ends with results (some may have failed: the
// report says which) is done; any other end is retried once, and the last
// attempt leaves a failure record for the merge before it is ignored.
process RUN {
    tag "${job.name}"
    cpus params.threads
    // Two attempts (maxRetries 1): the second failure is ignored here and
    // recorded by the merge (job.sh is told which attempt is the last).
    // Exit status 1 is sbatch refusing the job (job.sh never exits 1): a
    // setting to fix, which stops the pipeline; Nextflow 24.10 would also
    // hang after ignoring a job it could not submit.
    maxRetries 1
    errorStrategy { task.attempt < 2 ? 'retry' : (task.exitStatus == 1 ? 'terminate' : 'ignore') }

    input:
    val job
    val ctx // failures: the failure records' folder; mirror: absolute, or ''

    output:
    path "${job.name}"

    script:
    def q = { "'" + it.toString().replace("'", "'\\''") + "'" }
    """
    MLBENCH=${q(params.mlbench)} ROOT=${q(params.root)} JOB=${q(job.name)} TASK=${q(job.task)} \
    ATTEMPT=${task.attempt} LAST=2 FAILURES=${q(ctx.failures)} \
    PREPARE=${q(params.prepare ? job.datasets.join(' ') : '')} MIRROR=${q(ctx.mirror)} \
    bash ${q("${projectDir}/pipeline/job.sh")} ${job.run_args.collect { q(it) }.join(' ')} --size ${q(params.size)} \
        --reps ${params.reps} --warmup=${params.warmup} --threads ${params.threads} --device ${q(params.device)} \
        --timeout ${q(params.timeout)}
    """
}

// The merge runs where Nextflow runs and always runs again (also with
// -resume), so the results directory is made from this session's jobs.
process MERGE {
    executor 'local'
    cache false

    input:
    path dirs
    path plan
    val ctx // failures, and outdir, absolute

    output:
    stdout

    script:
    """
    rc=0
    "${params.mlbench}" --root "${params.root}" merge --plan ${plan} --failures '${ctx.failures}' '${ctx.outdir}' ${dirs} || rc=\$?
    [ \$rc -eq 0 ] || [ \$rc -eq 3 ]
    """
}

workflow {
    // Paths the jobs and the merge use, which do not run in the launch
    // directory: absolute. outdir is not an input of RUN, so that a
    // -resume into another outdir still finds the finished jobs.
    def failures = "${workflow.workDir}/mlbench-failures/${workflow.sessionId}".toString()
    def mirror = params.mirror ? file(params.mirror).toAbsolutePath().toString() : ''
    def plan = PLAN()
    def jobs = plan.flatMap { new JsonSlurper().parse(it.toFile()).jobs }
    def dirs = RUN(jobs, [failures: failures, mirror: mirror])
    MERGE(dirs.collect().ifEmpty([]), plan, [failures: failures, outdir: file(params.outdir).toAbsolutePath().toString()]).view()
}
