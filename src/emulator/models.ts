/**
 * The enrichment model catalogue. The first three are copied verbatim from Visual Layer's
 * enrichment page; the Nvidia face detector is our guess at a `Coming Soon` entry (the page names
 * Nvidia as a vendor and face detection as a capability, but lists no such model).
 */
export interface EnrichmentModel {
  readonly id: string
  readonly name: string
  readonly type: string
  readonly status: 'Active' | 'Coming Soon'
  readonly vendor: string
  readonly description: string
  readonly dependencies: readonly string[] | null
}

export const ENRICHMENT_MODELS: readonly EnrichmentModel[] = Object.freeze([
  Object.freeze({
    id: 'vl_image_captioner_v00',
    name: 'VL-Image-Captioner',
    type: 'CAPTION_IMAGES',
    status: 'Active',
    vendor: 'VL',
    description: 'Image captioning generates descriptive text that summarizes the content and context of the entire image input.',
    dependencies: null
  }),
  Object.freeze({
    id: 'vl_object_detector_v00',
    name: 'VL-Object-Detector',
    type: 'OBJECT_DETECTION',
    status: 'Active',
    vendor: 'VL',
    description: 'Identifies and locates objects within images or videos by drawing bounding boxes and classifying each detected object.',
    dependencies: null
  }),
  Object.freeze({
    id: 'vl_object_captioner_v00',
    name: 'VL-Object-Captioner',
    type: 'CAPTION_OBJECTS',
    status: 'Active',
    vendor: 'VL',
    description: 'Generates descriptive text summarizing detected objects and their interactions.',
    dependencies: Object.freeze(['OBJECT_DETECTION'])
  }),
  Object.freeze({
    id: 'nvidia_face_detector_v00',
    name: 'NV-Face-Detector',
    type: 'FACE_DETECTION',
    status: 'Coming Soon',
    vendor: 'Nvidia',
    description: 'Detects human faces in images and video frames and marks each with a bounding box.',
    dependencies: null
  })
] satisfies EnrichmentModel[])

export function findModel (id: string): EnrichmentModel | undefined {
  return ENRICHMENT_MODELS.find((model) => model.id === id)
}
