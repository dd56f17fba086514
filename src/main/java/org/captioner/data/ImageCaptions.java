package org.captioner.data;

import java.util.List;

/**
 * One image of a captioned data set.
 *
 * @param file     path of the image relative to the data set's image folder (e.g. {@code val2014/COCO_val2014_0001.jpg})
 * @param cocoId   COCO image id, or -1 when the data set has none
 * @param split    train / val / test / restval (Karpathy), train / dev (Flickr8k lists), or null
 * @param captions the human captions, raw text
 */
public record ImageCaptions(String file, long cocoId, String split, List<String> captions) {
    /** The file name without folders: how images are matched across formats. */
    public String fileName() {
        return file.substring(file.lastIndexOf('/') + 1);
    }
}
