//! Reviews after a trade, and the trust score they move.

use crate::domain::msg::Msg;

/// A review's stars, 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating(i32);

impl Rating {
    pub fn parse(input: &str) -> Result<Rating, Msg> {
        match input.trim().parse::<i32>() {
            Ok(n) if (1..=5).contains(&n) => Ok(Rating(n)),
            _ => Err(Msg::new("err.review.rating")),
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// The longest comment a review may carry, in characters.
pub const COMMENT_MAX: usize = 500;

/// A review's comment: at most [`COMMENT_MAX`] characters (may be empty), trimmed, without
/// control or invisible characters other than line breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewComment(String);

impl ReviewComment {
    pub fn parse(input: &str) -> Result<ReviewComment, Msg> {
        let s = input.trim().replace("\r\n", "\n");
        if s.chars().count() > COMMENT_MAX {
            return Err(Msg::new("err.review.comment_too_long").arg("max", COMMENT_MAX));
        }
        if s.chars()
            .any(|c| c != '\n' && super::account::is_invisible_or_control(c))
        {
            return Err(Msg::new("err.review.comment_invisible"));
        }
        Ok(ReviewComment(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where every member's trust score starts (Karrot's "manner temperature" starts here too).
pub const TRUST_START: f64 = 36.5;
/// The lowest and highest the score can go.
pub const TRUST_MIN: f64 = 0.0;
pub const TRUST_MAX: f64 = 99.9;

/// How much one review of `stars` moves the score: 5★ +0.5, 4★ +0.2, 3★ 0, 2★ −0.5, 1★ −1.0.
pub fn trust_step(stars: i32) -> f64 {
    match stars {
        5 => 0.5,
        4 => 0.2,
        2 => -0.5,
        1 => -1.0,
        _ => 0.0,
    }
}

/// The trust score: 36.5 plus [`trust_step`] of every review received, clamped to 0–99.9, to
/// one decimal. `counts[i]` is how many reviews of `i + 1` stars the member received.
pub fn trust_score(counts: [i64; 5]) -> f64 {
    // Sum in tenths so the answer is exact.
    let tenths: i64 = counts
        .iter()
        .zip(1..=5)
        .map(|(n, stars)| n * (trust_step(stars) * 10.0).round() as i64)
        .sum();
    let score = (TRUST_START * 10.0).round() as i64 + tenths;
    let clamped = score.clamp(
        (TRUST_MIN * 10.0).round() as i64,
        (TRUST_MAX * 10.0).round() as i64,
    );
    clamped as f64 / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_without_reviews_starts_at_36_5() {
        assert_eq!(trust_score([0; 5]), 36.5);
    }

    #[test]
    fn each_review_moves_the_score_by_its_stars() {
        assert_eq!(trust_score([0, 0, 0, 0, 1]), 37.0);
        assert_eq!(trust_score([0, 0, 0, 1, 0]), 36.7);
        assert_eq!(trust_score([0, 0, 1, 0, 0]), 36.5);
        assert_eq!(trust_score([0, 1, 0, 0, 0]), 36.0);
        assert_eq!(trust_score([1, 0, 0, 0, 0]), 35.5);
        assert_eq!(trust_score([1, 1, 1, 1, 1]), 35.7);
        assert_eq!(trust_score([0, 0, 0, 3, 0]), 37.1);
    }

    #[test]
    fn the_score_stays_between_0_and_99_9() {
        assert_eq!(trust_score([0, 0, 0, 0, 1000]), 99.9);
        assert_eq!(trust_score([1000, 0, 0, 0, 0]), 0.0);
    }

    #[test]
    fn ratings_outside_1_to_5_and_garbage_are_refused() {
        for bad in ["0", "6", "-1", "", "five", "4.5", "99999999999"] {
            assert!(Rating::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Rating::parse(" 5 ").unwrap().get(), 5);
    }

    #[test]
    fn a_comment_of_500_characters_is_kept_and_501_refused() {
        assert!(ReviewComment::parse(&"가".repeat(500)).is_ok());
        assert!(ReviewComment::parse(&"가".repeat(501)).is_err());
        assert!(ReviewComment::parse("ok\u{202E}evil").is_err());
        assert_eq!(ReviewComment::parse(" a\r\nb ").unwrap().as_str(), "a\nb");
    }
}
