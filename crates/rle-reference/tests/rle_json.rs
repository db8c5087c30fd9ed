//! The pycocotools-shaped JSON record and the `CocoRle` helpers.

use rle_reference::rle::{RleError, RleJson};
use rle_reference::{CocoRle, Size};

#[test]
fn json_has_the_pycocotools_shape_and_round_trips() {
    let rle = CocoRle {
        size: Size::new(5, 4),
        counts: b"0152M03N".to_vec(),
    };
    let json = RleJson::try_from(&rle).unwrap();
    let text = serde_json::to_string(&json).unwrap();
    assert_eq!(text, r#"{"size":[5,4],"counts":"0152M03N"}"#);
    let back: RleJson = serde_json::from_str(&text).unwrap();
    assert_eq!(CocoRle::try_from(back).unwrap(), rle);
    assert_eq!(rle.counts_string().unwrap(), "0152M03N");
    assert_eq!(rle.decode_counts().unwrap(), vec![0, 1, 5, 3, 2, 3, 5, 1]);
}

#[test]
fn backslash_and_backtick_survive_json() {
    let rle = CocoRle {
        size: Size::new(15, 31),
        counts: b"T3d0\\9AlG`".to_vec(),
    };
    let text = serde_json::to_string(&RleJson::try_from(&rle).unwrap()).unwrap();
    let back: RleJson = serde_json::from_str(&text).unwrap();
    assert_eq!(back.counts.as_bytes(), rle.counts.as_slice());
}

#[test]
fn bytes_outside_the_alphabet_are_rejected() {
    let rle = CocoRle {
        size: Size::new(1, 1),
        counts: vec![b'0', 0xFF],
    };
    assert_eq!(
        rle.counts_string(),
        Err(RleError::InvalidByte {
            byte: 0xFF,
            position: 1
        })
    );
    assert!(RleJson::try_from(&rle).is_err());
    let json = RleJson {
        size: [1, 1],
        counts: "1 ".into(),
    };
    assert!(matches!(
        CocoRle::try_from(json),
        Err(RleError::InvalidByte {
            byte: b' ',
            position: 1
        })
    ));
}
