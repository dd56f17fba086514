package org.captioner.decode;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The one check of decoding options that every front end applies. */
class DecodeOptionsTest {
    static String refused(int beam, int nbest, boolean sample, double temperature, int topK, Double alpha) {
        return assertThrows(IllegalArgumentException.class, () -> DecodeOptions.check(beam, nbest, sample, temperature, topK, alpha)).getMessage();
    }

    @Test
    void oneBeamLimitAndNbestRules() {
        DecodeOptions.check(DecodeOptions.MAX_BEAM, DecodeOptions.MAX_BEAM, false, 1.0, 0, null);
        DecodeOptions.check(1, 1, true, 0.5, 10, 1.25);
        assertEquals("beam must be in [1, 20], got 21", refused(21, 1, false, 1, 0, null));
        assertEquals("beam must be in [1, 20], got 0", refused(0, 1, false, 1, 0, null));
        assertEquals("nbest (3) cannot exceed beam (2)", refused(2, 3, false, 1, 0, null));
        DecodeOptions.check(1, 5, true, 1.0, 0, null);                     // five samples (self-critical training draws them so)
        assertTrue(refused(3, 1, true, 0, 0, null).startsWith("temperature must be in"));
        assertTrue(refused(3, 1, false, 1, -1, null).startsWith("top-k"));
        assertTrue(refused(3, 1, false, 1, 0, 2.5).startsWith("length alpha"));
        assertThrows(IllegalArgumentException.class, () -> new DecodeOptions(21, 1, 0, false, 1, 0, 20, false, 1), "the record checks too");
    }
}
