package org.captioner.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tokenization as coco-caption's {@code ptbtokenizer.py} does it: Stanford CoreNLP 3.4.1's PTBTokenizer with
 * {@code -preserveLines -lowerCase}, one caption per line, then the punctuation tokens in {@link #PUNCTUATION}
 * dropped.
 *
 * <p>Written here rather than calling CoreNLP because CoreNLP is GPL-2.0: this class re-states the subset of
 * PTBLexer's rules that caption text reaches (words, contractions, possessives, numbers, fractions, dates,
 * abbreviations and acronyms, hyphenated and slashed words, URLs, brackets, quotes and punctuation). As PTBLexer
 * (a JFlex scanner) does, it takes at each position the longest match over its rules, the first rule winning ties;
 * a rule's trailing context ({@code word} before {@code 's}) counts towards its length but is not consumed.
 * {@code PtbTokenizerTest} checks it against CoreNLP itself (a test-scope dependency) on every caption of Flickr8k
 * and COCO val2017.
 *
 * <p>Faithful quirk: lower-casing happens after PTB escaping, so brackets come out as {@code -lrb-} and
 * {@code -rrb-}, which do not match the upper-case entries of the punctuation list and are kept, as in the
 * reference implementation.
 */
public final class PtbTokenizer {
    public static final Set<String> PUNCTUATION = Set.of("''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-",
            ".", "?", "!", ",", ":", "-", "--", "...", ";");

    private PtbTokenizer() {
    }

    /** One lexer rule: a pattern, the trailing context that must follow it (or null), and how its text is emitted. */
    private record Rule(Pattern body, Pattern context, Kind kind) {
    }

    private enum Kind { WORD, CLITIC, QUOTE, BRACKET, HYPHENS, DOTS, FRACTION }

    private static final String L = "\\p{L}";                       // PTBLexer's [:letter:]
    private static final String LD = "[\\p{L}\\p{Nd}]";
    private static final String APOS = "['\\u0092\\u2019]";
    private static final String APOSETC = "['\\u0092\\u2019\\u0091\\u2018\\u201B]";
    private static final String WORD = "[\\p{L}\\p{M}\\u00AD]+";    // letters and their marks; digits are numbers
    private static final String WORDS = WORD + "(?:[.!?]" + WORD + ")*";   // street.A, stair.s
    private static final String REDAUX = APOS + "(?:[msdMSD]|re|ve|ll|RE|VE|LL|Re|Ve|Ll)";
    private static final String SREDAUX = "[nN]" + APOSETC + "[tT]";
    private static final String NUM = "(?:\\d*(?:[.:,\\u00AD]\\d+)+|\\d+)";
    private static final String HYPHEN = "[-_\\u058A\\u2010\\u2011]";
    private static final String SPACE = "[ \\t\\u00A0\\u2000-\\u200A\\u3000]";
    private static final String SPACENL = "[ \\t\\u00A0\\u2000-\\u200A\\u3000\\n]";
    private static final String ACRO = "[A-Za-z](?:\\.[A-Za-z])+";
    private static final String ABBREV1 = "(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Mon|Tue|Tues|Wed|Thu|Thurs|Fri"
            + "|Ala|Ariz|(?-i:A)rk|Calif|Colo|Conn|Dak|Del|Fla|Ga|(?-i:I)ll|Ind|Kans?|Ky|La|(?-i:M)ass|Md|Mich|Minn|(?-i:M)iss|Mo|Mont|Neb|Nev"
            + "|Okla|(?-i:O)re|Pa|Penn|Tenn|Tex|Va|Vt|(?-i:W)ash|Wisc?|Wyo|Inc|Cos?|Corp|Pp?tys?|Ltd|Plc|Bancorp|Dept|Bhd|Assn|Univ|Intl"
            + "|Sys|Nos?|Prop|Ph|tel|est|ext|sq|ft|Jr|Sr|Bros|(?:Ed|Ph)\\.D|Blvd|Rd|Esq|etc|al|seq)\\.";
    private static final String ABBREV4 = "(?:" + ACRO + "|Mr|Mrs|Ms|(?-i:M)iss|Drs?|Profs?|Sens?|Reps?|Attys?|Lt|Col|Gen|Messrs|Govs?"
            + "|Adm|Rev|Maj|Sgt|Cpl|Pvt|Mt|Capt|Ste?|Ave|Pres|Lieut|Hon|Brig|Co?mdr|Pfc|Spc|Supts?|Det|vs|Alex|Wm|Jos|Cie"
            + "|a\\.k\\.a|cf|TREAS|Invt|Elec|Natl|M[ft]g|[A-Za-z])";
    /** After a one-letter abbreviation, these words mean its period ends a sentence (PTBLexer's list, case-sensitive). */
    private static final String SENTENCE_STARTS = "(?:About|According|Additionally|After|An|A|As|At|But|Earlier|He|Her|Here"
            + "|However|If|In|It|Last|Many|More|Mr\\.|Ms\\.|Now|Once|One|Other|Our|She|Since|So|Some|Such|That|The|Then|There"
            + "|These|They|This|We|When|While|What|Yet|You)";
    private static final String THING = "(?:[dDoOlL]" + APOSETC + LD + ")?" + LD + "+(?:" + HYPHEN + "(?:[dDoOlL]" + APOSETC + LD
            + ")?" + LD + "+)*";
    private static final String HTHING = "[A-Za-z0-9][A-Za-z0-9.,\\u00AD]*(?:-(?:[A-Za-z0-9\\u00AD]+|" + ACRO + "\\.))+";
    private static final String NOT_URL = "[^ \\t\\n\\f\\r\"<>|()]";

    private static final List<Rule> RULES = List.of(
            rule("</?[A-Za-z!][^>]*>", null, Kind.WORD),                          // <tags>
            rule("(?i)can", "(?i)not", Kind.WORD),                               // cannot -> can not
            rule("(?i)(?:gon|wan)", "(?i)na", Kind.WORD),                        // gonna -> gon na
            rule("(?i)got", "(?i)ta", Kind.WORD),
            rule("(?i)(?:lem|gim)", "(?i)me", Kind.WORD),
            rule(APOS + "[tT]", "(?i)(?:is|was)", Kind.WORD),                    // 'tis -> 't is
            rule(WORDS, REDAUX, Kind.WORD),                                      // dog|'s
            rule("[A-Za-z\\u00AD]*[A-MO-Za-mo-z]\\u00AD*", SREDAUX, Kind.WORD),  // is|n't, ca|n't
            rule(WORDS, null, Kind.WORD),
            rule(APOS + "n" + APOS + "|[lLdDjJ]" + APOS + "|Dunkin" + APOS + "|somethin" + APOS + "|ol" + APOS + "|" + APOS + "em"
                    + "|[A-HJ-XZn]" + APOSETC + L + "{2}" + L + "*|" + APOS + "[2-9]0s|" + APOS + "till?"
                    + "|" + L + "+[aeiouyAEIOUY]" + APOSETC + "[aeiouA-Z]" + L + "*|" + APOS + "cause|cont'd\\.?|'twas"
                    + "|nor'easter|c'mon|e'er|s'mores|ev'ry|li'l|nat'l", null, Kind.WORD),
            rule(APOS + "n", "[^\\p{L}]|$", Kind.WORD),                           // rock 'n roll
            rule("[yY]" + APOS, L, Kind.WORD),                                   // y'all
            rule("https?://" + NOT_URL + "+[^ \\t\\n\\f\\r\"<>|.!?(){},-]", null, Kind.WORD),
            rule("(?:(?:www\\.(?:[^ \\t\\n\\f\\r\"<>|.!?(){},]+\\.)+[a-zA-Z]{2,4})|(?:(?:[^ \\t\\n\\f\\r\"`'<>|.!?(){},\\-_$]+\\.)+"
                    + "(?:com|net|org|edu)))(?:/" + NOT_URL + "+[^ \\t\\n\\f\\r\"<>|.!?(){},-])?", null, Kind.WORD),
            rule("[a-zA-Z0-9][^ \\t\\n\\f\\r\"<>|()\\u00A0{}]*@(?:[^ \\t\\n\\f\\r\"<>|(){}.\\u00A0]+\\.)*[^ \\t\\n\\f\\r\"<>|(){}.\\u00A0]+",
                    null, Kind.WORD),                                            // e-mail addresses
            rule(REDAUX, "[^A-Za-z]", Kind.CLITIC),                              // 's before a non-letter
            rule(SREDAUX, null, Kind.CLITIC),
            rule("\\d{1,2}[-/]\\d{1,2}[-/]\\d{2,4}", null, Kind.WORD),            // dates
            rule("[-+]?" + NUM, null, Kind.WORD),
            rule("(?:\\d{1,4}[- \\u00A0])?\\d{1,4}\\\\?/\\d{1,4}", null, Kind.FRACTION),  // 22 3/4
            rule("[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\\\?/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2}", null, Kind.WORD),  // and/or
            rule("[A-Z]*\\$|#", null, Kind.WORD),
            rule("[A-Za-z]", "\\." + SPACENL + "+" + SENTENCE_STARTS + SPACENL, Kind.WORD),   // W|. The
            rule("(?i)" + ABBREV1, null, Kind.WORD),
            rule("(?i)" + ABBREV4 + "\\.", null, Kind.WORD),
            rule("(?i)" + ABBREV4, SPACE, Kind.WORD),
            rule(ACRO, SPACENL, Kind.WORD),
            rule(APOS + "\\d\\d", SPACENL, Kind.WORD),                             // '90
            rule(WORDS + "\\.", "[,;:]", Kind.WORD),
            rule("(?:\\(\\d{3}\\)[ \\u00A0]?|\\d{3}[- \\u00A0.])\\d{3}[- \\u00A0.]\\d{4}", null, Kind.WORD),  // phone numbers
            rule("\"", null, Kind.QUOTE),
            rule("[+%&\\u2030\\u2031~^|\\\\]", null, Kind.WORD),
            rule("[{}\\[\\]()<>]", null, Kind.BRACKET),
            rule("-+", null, Kind.HYPHENS),
            rule("\\.{3,5}|(?:\\.[ \\u00A0]){2,4}\\.|[\\u0085\\u2026]", null, Kind.DOTS),
            rule("@+|#+|_+|\\*+", null, Kind.WORD),
            rule("[,;:\\u3001]", null, Kind.WORD),
            rule("[?!]+", null, Kind.WORD),
            rule("[.=/]", null, Kind.WORD),
            rule(HTHING + "\\.", "[,;:]", Kind.WORD),
            rule(HTHING, null, Kind.WORD),
            rule(THING + "\\.", "[,;:]", Kind.WORD),
            rule(THING, null, Kind.WORD),                                        // hyphenated words, o'clock
            rule("[A-Z]+(?:[+&][A-Z]+)+", null, Kind.WORD),                      // AT&T
            rule("'", "[A-Za-z][^ \\t\\n\\r\\u00A0]", Kind.QUOTE),
            rule(REDAUX, null, Kind.CLITIC),
            rule(APOS + "|''|[`\\u2018\\u2019\\u201A\\u201B\\u201C\\u201D\\u0091\\u0092\\u0093\\u0094\\u201E\\u201F\\u2039\\u203A\\u00AB\\u00BB]{1,2}",
                    null, Kind.QUOTE));

    private static Rule rule(String body, String context, Kind kind) {
        return new Rule(Pattern.compile(body), context == null ? null : Pattern.compile(context), kind);
    }

    /** Tokenizes groups of sentences (e.g. each image's references) in one pass; the result keeps the grouping. */
    public static List<List<String>> tokenizeGroups(List<List<String>> groups) {
        List<String> flat = new ArrayList<>();
        for (List<String> g : groups) flat.addAll(g);
        List<String> tok = tokenize(flat);
        List<List<String>> out = new ArrayList<>(groups.size());
        int pos = 0;
        for (List<String> g : groups) {
            out.add(tok.subList(pos, pos + g.size()));
            pos += g.size();
        }
        return out;
    }

    /**
     * Tokenizes each sentence; result i is sentence i's tokens joined by single spaces. As coco-caption does, the
     * sentences are read as one text, one per line (a newline inside a caption counts as a space): a few rules look
     * past the end of a line (a one-letter abbreviation before a capitalised sentence start, say).
     */
    public static List<String> tokenize(List<String> sentences) {
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < sentences.size(); i++) {
            if (i > 0) all.append('\n');
            all.append(sentences.get(i).replace('\n', ' '));
        }
        String s = all.toString();
        List<String> out = new ArrayList<>(sentences.size());
        StringBuilder line = new StringBuilder();
        boolean openQuote = true;
        int pos = 0;
        int n = s.length();
        Matcher[] bodies = new Matcher[RULES.size()];
        Matcher[] contexts = new Matcher[RULES.size()];
        for (int i = 0; i < bodies.length; i++) {
            bodies[i] = RULES.get(i).body.matcher(s);
            if (RULES.get(i).context != null) contexts[i] = RULES.get(i).context.matcher(s);
        }
        while (pos < n) {
            char c = s.charAt(pos);
            if (c == '\n') {
                out.add(line.toString());
                line.setLength(0);
                pos++;
                continue;
            }
            if (Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u200B' || c == '\uFEFF') {
                pos++;
                continue;
            }
            Rule best = null;
            int bestTotal = 0;
            int bestBody = 0;
            for (int i = 0; i < bodies.length; i++) {
                Matcher m = bodies[i].region(pos, n);
                if (!m.lookingAt() || m.end() == pos) continue;
                int total = m.end() - pos;
                if (contexts[i] != null) {
                    Matcher cm = contexts[i].region(m.end(), n);
                    if (!cm.lookingAt()) continue;
                    total += cm.end() - m.end();
                }
                if (total > bestTotal) {
                    best = RULES.get(i);
                    bestTotal = total;
                    bestBody = m.end() - pos;
                }
            }
            String token;
            if (best == null) {          // a character no rule covers is a token of its own
                bestBody = Character.charCount(s.codePointAt(pos));
                token = s.substring(pos, pos + bestBody);
            } else {
                token = emit(best.kind, s.substring(pos, pos + bestBody), openQuote);
                if (token.equals("``")) openQuote = false;
                else if (token.equals("''")) openQuote = true;
            }
            pos += bestBody;
            token = token.toLowerCase(Locale.ROOT);
            if (PUNCTUATION.contains(token)) continue;
            if (line.length() > 0) line.append(' ');
            line.append(token);
        }
        out.add(line.toString());
        return out;
    }

    /** One sentence. */
    public static String tokenize(String sentence) {
        return tokenize(List.of(sentence)).get(0);
    }

    private static String emit(Kind kind, String text, boolean openQuote) {
        return switch (kind) {
            case WORD -> text;
            case CLITIC -> text.replaceAll("[\\u0092\\u2019\\u0091\\u2018\\u201B]", "'");   // it’s -> it 's
            case FRACTION -> text.replace(' ', '\u00A0');
            case QUOTE -> text.equals("\"") ? (openQuote ? "``" : "''") : text.startsWith("`") ? "`" : "'";
            case BRACKET -> switch (text) {
                case "(" -> "-LRB-";
                case ")" -> "-RRB-";
                case "[" -> "-LSB-";
                case "]" -> "-RSB-";
                case "{" -> "-LCB-";
                case "}" -> "-RCB-";
                default -> text;
            };
            case HYPHENS -> text.length() == 3 || text.length() == 4 ? "--" : text;
            case DOTS -> "...";
        };
    }
}
