package org.captioner.cli;

import org.captioner.data.CaptionDataset;
import org.captioner.data.ImageCaptions;
import org.captioner.encoder.NativeSetup;
import org.captioner.features.FeatureSet;
import org.captioner.model.AttentionMap;
import org.captioner.model.DecoderType;
import org.captioner.train.ScheduledSampling;
import org.captioner.train.ScstOptions;
import org.captioner.train.SelfCritical;
import org.captioner.train.TrainOptions;
import org.captioner.train.Trainer;
import org.captioner.train.TrainingState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a caption decoder on cached features (run 'features' first).",
                "Also through Maven: mvn -q exec:java -Dexec.args=\"train ...\""})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "flickr8k, coco, karpathy or tsv.")
    String data;
    @Option(names = "--captions", required = true, description = "Captions file: Flickr8k token file, COCO captions JSON, Karpathy JSON, or TSV/CSV.")
    Path captions;
    @Option(names = "--dev-captions", description = "Separate dev captions (COCO/TSV); default: the dev split of --captions.")
    Path devCaptions;
    @Option(names = "--train-split", description = "Split used for training (default: train; all images for coco/tsv).")
    String trainSplit;
    @Option(names = "--dev-split", description = "Split used for model selection (default: dev for flickr8k, val for karpathy).")
    String devSplit;
    @Option(names = "--features", required = true, description = "Features folder written by 'features'.")
    Path features;
    @Option(names = "--dev-features", description = "Features of the dev images, if in another folder.")
    Path devFeatures;
    @Option(names = "--decoder", defaultValue = "attention", description = "rnn, lstm, gru, attention or hard-attention.")
    String decoder;
    @Option(names = "--out", required = true, description = "Model folder: the best model, training-log.csv and checkpoint/.")
    Path out;
    @Option(names = "--resume", description = "Continue the run in --out from its last checkpoint.")
    boolean resume;
    @Option(names = "--epochs", defaultValue = "10", description = "Epochs to train (the best on dev is kept; with --resume: the new total).") int epochs;
    @Option(names = "--batch", defaultValue = "64", description = "Captions per batch.") int batch;
    @Option(names = "--lr", description = {"Adam learning rate (default: " + TrainOptions.DEFAULT_LEARNING_RATE + "; " + TrainOptions.DEFAULT_SCST_LEARNING_RATE + " with --scst). With --resume: replaces the",
            "checkpoint's (which otherwise continues, decays included)."}) Double lrOption;
    @Option(names = "--scst", description = {"Self-critical sequence training: fine-tune --init on the CIDEr-D of its own sampled captions",
            "(REINFORCE with a baseline; see docs/training.md). The decoder and vocabulary come from --init."}) boolean scst;
    @Option(names = "--init", description = "With --scst: the cross-entropy model to start from (a model folder or a training run's --out).")
    Path init;
    @Option(names = "--scst-samples", defaultValue = "5", description = "With --scst: captions sampled per image.")
    int scstSamples;
    @Option(names = "--scst-baseline", defaultValue = "mean", description = {"With --scst: reward baseline, mean (of the image's other samples,",
            "Luo 2020; default) or greedy (the greedy caption's reward, Rennie et al. 2017)."}) String scstBaseline;
    @Option(names = "--lr-decay", defaultValue = "0.8", description = "Learning-rate factor after an epoch without dev improvement.") double lrDecay;
    @Option(names = "--patience", defaultValue = "3", description = "Stop after this many epochs without dev improvement.") int patience;
    @Option(names = "--min-count", defaultValue = "5", description = "Minimum word count for the vocabulary.") int minCount;
    @Option(names = "--max-length", defaultValue = "20", description = "Longest caption in words (longer ones are cut).") int maxLength;
    @Option(names = "--seed", defaultValue = "42", description = "Random seed: initial weights, batch order, dropout and sampling.") long seed;
    @Option(names = "--checkpoint-every", defaultValue = "200", description = "Checkpoint every N steps (and every epoch).") int checkpointEvery;
    @Option(names = "--dev-beam", defaultValue = org.captioner.decode.DecodeOptions.DEFAULT_BEAM, description = "Beam width for the per-epoch dev evaluation.") int devBeam;
    @Option(names = "--layers", defaultValue = "1", description = {"Stacked recurrent layers of rnn, lstm and gru;",
            "the image enters the first, dropout (--dropout) between layers."}) int layers;
    @Option(names = "--embed", defaultValue = "256", description = "Word embedding size.") int embed;
    @Option(names = "--hidden", defaultValue = "512", description = "Recurrent hidden state size.") int hidden;
    @Option(names = "--dropout", defaultValue = "0.5", description = "Dropout probability before the output layer (and between stacked layers).") double dropout;
    @Option(names = "--attention-map", defaultValue = "sparsemax", converter = AttentionMapConverter.class,
            description = {"How attention scores become weights over the grid cells: sparsemax (default: zero weight for",
                    "cells scored far below the best, focused maps) or softmax (Show, Attend and Tell's). See docs/training.md."})
    AttentionMap attentionMap;
    @Option(names = "--context-projection", defaultValue = "0", paramLabel = "WIDTH", description = {"Attention decoders: project the grid's",
            "channels to WIDTH (e.g. 512) once per image, before attention and the LSTM input (0 = none)."}) int contextProjection;
    @Option(names = "--attention-lambda", defaultValue = "0", description = {"Weight of the doubly stochastic attention regulariser,",
            "lambda * mean over captions and cells of (1 - sum_t p_ti)^2 (1 is the Show-Attend-Tell",
            "tutorial's). With fewer words than grid cells it spreads attention out; see docs/training.md."}) double lambda;
    @Option(names = "--ss-start", defaultValue = "0", description = {"Scheduled sampling: first epoch that feeds the model's own words (0 = off).",
            "Then the probability grows by --ss-step every --ss-every epochs up to --ss-max."}) int ssStart;
    @Option(names = "--ss-every", defaultValue = "5", description = "Scheduled sampling: epochs between increases.") int ssEvery;
    @Option(names = "--ss-step", defaultValue = "0.05", description = "Scheduled sampling: probability added each time.") double ssStep;
    @Option(names = "--ss-max", defaultValue = "0.25", description = "Scheduled sampling: highest probability.") double ssMax;
    @Option(names = "--limit-train", defaultValue = "0", description = "Use only the first N training images (quick runs).") int limitTrain;
    @Option(names = "--limit-dev", defaultValue = "0", description = "Use only the first N dev images.") int limitDev;
    @Option(names = "--no-progress", description = "No progress display on stderr.") boolean noProgress;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private double attentionLambda() {
        Options.range(spec, "--attention-lambda", lambda, 0, 100);
        return lambda;
    }

    static final class AttentionMapConverter implements picocli.CommandLine.ITypeConverter<AttentionMap> {
        @Override
        public AttentionMap convert(String value) {
            try {
                return AttentionMap.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    private ScheduledSampling scheduledSampling() {
        try {
            return new ScheduledSampling(ssStart, ssEvery, ssStep, ssMax);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    @Override
    public Integer call() throws Exception {
        for (var e : new Object[][] {{"--epochs", epochs}, {"--batch", batch}, {"--min-count", minCount}, {"--max-length", maxLength},
                {"--dev-beam", devBeam}, {"--embed", embed}, {"--hidden", hidden}, {"--patience", patience}, {"--layers", layers}}) {
            Options.positive(spec, (String) e[0], (Integer) e[1]);
        }
        double lr = lrOption != null ? lrOption : scst ? TrainOptions.DEFAULT_SCST_LEARNING_RATE : TrainOptions.DEFAULT_LEARNING_RATE;
        Options.range(spec, "--lr", lr, 1e-7, 1);
        ScstOptions scstOptions = null;
        if (init != null && !scst) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--init is only used with --scst");
        if (scst) {
            try {
                scstOptions = new ScstOptions(init, scstSamples, SelfCritical.Baseline.parse(scstBaseline));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            if (!java.nio.file.Files.isRegularFile(init.resolve(org.captioner.model.ModelBundle.CONFIG))) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--init " + init + " is not a model folder (no config.json)");
            }
        }
        Options.range(spec, "--lr-decay", lrDecay, 0.01, 1);
        Options.range(spec, "--dropout", dropout, 0, 0.95);
        double attentionLambda = attentionLambda();
        DecoderType type;
        CaptionDataset.Format format;
        try {
            type = DecoderType.parse(scst ? new com.fasterxml.jackson.databind.ObjectMapper()   // the decoder of --init
                    .readTree(init.resolve(org.captioner.model.ModelBundle.CONFIG).toFile()).path("decoder").path("type").asText() : decoder);
            format = switch (data.toLowerCase()) {
                case "flickr8k", "flickr30k", "flickr" -> CaptionDataset.Format.FLICKR8K;
                case "coco" -> CaptionDataset.Format.COCO;
                case "karpathy" -> CaptionDataset.Format.KARPATHY;
                case "tsv", "csv" -> CaptionDataset.Format.TSV;
                default -> throw new IllegalArgumentException("unknown --data '" + data + "' (flickr8k, coco, karpathy, tsv)");
            };
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        Options.range(spec, "--layers", layers, 1, 8);
        if (layers > 1 && type.attends()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--layers is for rnn, lstm and gru; the attention decoder has one LSTM layer");
        }
        if (contextProjection != 0) {
            Options.range(spec, "--context-projection", contextProjection, 1, 4096);
            if (!type.attends()) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--context-projection is for the attention decoders");
            if (scst) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--context-projection comes from --init with --scst");
        }
        if (layers > 1 && scst) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--layers comes from --init with --scst");
        NativeSetup.init();
        CaptionDataset ds = CaptionDataset.load(captions, format);
        boolean hasSplits = format == CaptionDataset.Format.FLICKR8K || format == CaptionDataset.Format.KARPATHY;
        String ts = trainSplit != null ? trainSplit : hasSplits ? "train" : null;
        String dsplit = devSplit != null ? devSplit : format == CaptionDataset.Format.FLICKR8K ? "dev" : format == CaptionDataset.Format.KARPATHY ? "val" : null;
        List<ImageCaptions> train = ds.split(ts);
        List<ImageCaptions> dev;
        if (devCaptions != null) {
            CaptionDataset dds = CaptionDataset.load(devCaptions);
            dev = dds.split(devSplit);
        } else if (dsplit != null) {
            dev = ds.split(dsplit);
        } else {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--dev-captions (or --dev-split) is needed to select models on " + data);
        }
        if (train.isEmpty()) throw new IllegalArgumentException("training split '" + ts + "' of " + captions + " is empty");
        if (dev.isEmpty()) throw new IllegalArgumentException("dev split is empty");
        try (FeatureSet tf = new FeatureSet(features);
             FeatureSet df = devFeatures == null ? null : new FeatureSet(devFeatures)) {
            Trainer.Data d = new Trainer.Data(train, dev, tf, df == null ? tf : df,
                    data + " " + captions + " (train split " + ts + ": " + train.size() + " images; dev: " + dev.size() + " images)");
            TrainOptions o = new TrainOptions(type, out, epochs, batch, lr, lrDecay, patience, minCount, maxLength, seed, checkpointEvery,
                    devBeam, embed, hidden, dropout, limitTrain, limitDev, attentionLambda, scheduledSampling(), attentionMap, scstOptions, layers,
                    contextProjection);
            Trainer trainer = new Trainer(o, d, String.join(" ", spec.commandLine().getParseResult().originalArgs())).progress(!noProgress);
            if (resume && lrOption != null) trainer.resumeAtLearningRate(lr);      // an explicit --lr wins over the checkpoint's
            TrainingState st = trainer.run(resume);
            System.err.printf("best epoch %d, dev CIDEr-D %.4f -> %s%n", st.bestEpoch, st.bestScore, out);
        }
        return Main.EXIT_OK;
    }
}
