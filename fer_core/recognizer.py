"""Images or video frames -> faces with 7-class apparent-expression probabilities (ONNX Runtime)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_core.config import ONNX_MODEL_PATH
from fer_core.detect import Box, Detection, FaceDetector, YuNetDetector
from fer_core.framing import frame_face
from fer_core.images import ImageError, ImageSource, load_image
from fer_core.labels import EMOTIONS, INPUT_SIZE, NUM_CLASSES, is_readable, is_uncertain
from fer_core.model_info import model_id_from_metadata
from fer_core.preprocess import to_gray, to_model_input

#: Longest side a photo is decoded to before detection; larger photos only cost time.
DECODE_MAX_SIDE: int = 1920


#: What detect_faces returns for one image: boxes, detector scores, 48x48 uint8 crops.
Detected = tuple[list[Box], list[float], np.ndarray]


@dataclass(frozen=True)
class FaceResult:
    """One face: where it is, and how it appears (probabilities in EMOTIONS order)."""

    box: Box
    probabilities: np.ndarray
    detection_score: float = 1.0

    @property
    def label(self) -> str:
        return EMOTIONS[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    @property
    def face_size(self) -> int:
        """Short side of the box in pixels: how much of the face the model could see."""
        return int(min(self.box[2], self.box[3]))

    @property
    def readable(self) -> bool:
        """False for faces below the readability floor: detected, but left out of expression shares."""
        return is_readable(self.face_size)

    @property
    def uncertain(self) -> bool:
        """True when no expression stands out (display only; the probabilities are kept whole)."""
        return is_uncertain(self.confidence)

    def as_dict(self) -> dict:
        return {
            "box": list(self.box),
            "label": self.label,
            "confidence": self.confidence,
            "face_size": self.face_size,
            "readable": self.readable,
            "uncertain": self.uncertain,
            "detection_score": self.detection_score,
            "probabilities": dict(zip(EMOTIONS, map(float, self.probabilities))),
        }


def frame_detections(image: np.ndarray, detections: Sequence[Detection]) -> np.ndarray:
    """(N, 48, 48) uint8 crops of detections in a gray or RGB image (serving's one framing)."""
    if not detections:
        return np.zeros((0, INPUT_SIZE, INPUT_SIZE), np.uint8)
    gray = to_gray(image)
    return np.stack([frame_face(gray, d) for d in detections])


class Recognizer:
    """Detect faces and classify their apparent expression with the committed ONNX model.

    `tta=True` averages the prediction with that of the mirrored face (two passes).
    """

    def __init__(
        self,
        model_path: str | Path = ONNX_MODEL_PATH,
        detector: FaceDetector | None = None,
        tta: bool = False,
        threads: int = 0,
        batch_size: int = 64,
    ) -> None:
        import onnxruntime as ort

        model_path = Path(model_path)
        if not model_path.is_file():
            raise FileNotFoundError(f"model not found at {model_path}; run training.export first")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._input_name = self._session.get_inputs()[0].name
        #: Short id of the model (ONNX metadata), stored with every reading so models are never mixed.
        self.model_id = model_id_from_metadata(self._session.get_modelmeta().custom_metadata_map)
        self.detector = detector if detector is not None else YuNetDetector()
        self.tta, self.batch_size, self.model_path = tta, batch_size, model_path

    def _run(self, x: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input_name: x})[0]

    def predict_faces(self, faces: np.ndarray) -> np.ndarray:
        """uint8 faces (N, 48, 48) -> probabilities (N, 7), batched."""
        x = to_model_input(faces)
        if len(x) == 0:
            return np.zeros((0, NUM_CLASSES), dtype=np.float32)
        out = []
        for start in range(0, len(x), self.batch_size):
            chunk = x[start : start + self.batch_size]
            probs = self._run(chunk)
            if self.tta:
                probs = (probs + self._run(np.ascontiguousarray(chunk[:, :, ::-1, :]))) / 2.0
            out.append(probs)
        return np.concatenate(out).astype(np.float32)

    def detect_framed(self, rgb: np.ndarray) -> tuple[list[Detection], np.ndarray]:
        """Every face's detection (box, score, landmarks) and its 48x48 uint8 crop, framed like the
        training faces and levelled (fer_core.framing.frame_face)."""
        detections = self.detector.detect(rgb)
        return detections, frame_detections(rgb, detections)

    def detect_faces(self, rgb: np.ndarray) -> Detected:
        """Boxes, detector scores and 48x48 uint8 crops of every face in an RGB image."""
        detections, faces = self.detect_framed(rgb)
        return [d.box for d in detections], [d.score for d in detections], faces

    def analyze(self, image: ImageSource, color_order: str = "rgb") -> list[FaceResult]:
        """Every face in one image (path, bytes, PIL image, or gray/RGB/BGR array).

        Encoded images are decoded at most DECODE_MAX_SIDE on the longer side and boxes
        refer to that decoded image (`fer_core.images.load_image` gives the same pixels).
        """
        return self.analyze_many([image], color_order)[0]

    def analyze_many(self, images: Sequence[ImageSource], color_order: str = "rgb") -> list[list[FaceResult]]:
        """Faces of several images, classified together in as few model calls as possible."""
        return self.classify_detected(
            [self.detect_faces(load_image(image, color_order, max_side=DECODE_MAX_SIDE)) for image in images]
        )

    def classify_detected(self, detected: Sequence[Detected]) -> list[list[FaceResult]]:
        """Classify the faces `detect_faces` found in several images with one batched model run."""
        crops = [faces for _, _, faces in detected if len(faces)]
        probabilities = self.predict_faces(np.concatenate(crops)) if crops else None
        results, offset = [], 0
        for boxes, scores, _ in detected:
            results.append(
                [
                    FaceResult(box, probabilities[offset + i], score)
                    for i, (box, score) in enumerate(zip(boxes, scores))
                ]
            )
            offset += len(boxes)
        return results


__all__ = ["FaceResult", "ImageError", "Recognizer"]
