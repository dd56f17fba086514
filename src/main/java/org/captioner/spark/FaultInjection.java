package org.captioner.spark;

import org.apache.spark.TaskContext;

/**
 * Fault injection for the fault tests (conf {@code spark.captioner.test.failOnce}): the first attempt of partition 0
 * fails after it has produced its first batch of rows, either by throwing ({@code throw}: a failed task) or by
 * ending its JVM ({@code exit}: a lost executor). Spark must retry the task and commit exactly one copy of its rows.
 * Off unless that conf is set; never set by the product.
 */
final class FaultInjection {
    static final String CONF = "spark.captioner.test.failOnce";

    private FaultInjection() {
    }

    static void afterFirstBatch(String mode) {
        if (mode == null) return;
        TaskContext ctx = TaskContext.get();
        if (ctx == null || ctx.partitionId() != 0 || ctx.attemptNumber() != 0) return;
        if (mode.equals("exit")) {
            System.err.println("fault injection: executor exits during task " + ctx.taskAttemptId());
            Runtime.getRuntime().halt(77);
        }
        throw new IllegalStateException("fault injection: task " + ctx.taskAttemptId() + " fails once");
    }
}
