package org.captioner.util;

/**
 * Pauses at a chosen moment of a write so the crash-safety tests can SIGKILL the process exactly there (the
 * moment is announced on stderr). Inert unless the test sets the system property.
 */
public final class KillTestHooks {
    private KillTestHooks() {
    }

    public static void pause(String moment) {
        System.err.println(moment);
        System.err.flush();
        try {
            Thread.sleep(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
