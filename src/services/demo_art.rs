//! Pictures for `seed-demo`, drawn by code for the project (nothing downloaded): simple
//! illustrated objects — a desk lamp, a film camera, a bicycle, books, a houseplant, a mug —
//! made of soft shapes and gradients on a pastel table, anti-aliased with signed distances.
//! Each [`Subject`] has a few views (another light, closer, from further away), 1 to 4 per
//! listing, encoded as JPEG so they enter the site through the same check as an upload.

use image::{Rgb, RgbImage};

/// What a demo picture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Lamp,
    Camera,
    Bicycle,
    Books,
    Plant,
    Mug,
}

/// Width and height of a demo picture.
pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 480;

/// The drawing is laid out on a 400 × 300 board and scaled to the picture.
const BOARD_W: f32 = 400.0;

type Color = [f32; 3];

fn hex(c: u32) -> Color {
    [
        ((c >> 16) & 0xff) as f32,
        ((c >> 8) & 0xff) as f32,
        (c & 0xff) as f32,
    ]
}

fn mix(a: Color, b: Color, t: f32) -> Color {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// A picture being drawn: board coordinates map to pixels by `scale` and `offset`.
struct Canvas {
    img: RgbImage,
    scale: f32,
    ox: f32,
    oy: f32,
}

impl Canvas {
    fn new(zoom: f32, shift: (f32, f32)) -> Canvas {
        let scale = WIDTH as f32 / BOARD_W * zoom;
        // Zoom about the board's centre (200, 160), then shift (in board units).
        let ox = WIDTH as f32 / 2.0 - (200.0 + shift.0) * scale;
        let oy = HEIGHT as f32 / 2.0 - (160.0 + shift.1) * scale;
        Canvas {
            img: RgbImage::new(WIDTH, HEIGHT),
            scale,
            ox,
            oy,
        }
    }

    fn blend(&mut self, x: u32, y: u32, color: Color, alpha: f32) {
        if alpha <= 0.0 {
            return;
        }
        let p = self.img.get_pixel_mut(x, y);
        let old = [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])];
        let new = mix(old, color, alpha);
        *p = Rgb(new.map(|v| v.round().clamp(0.0, 255.0) as u8));
    }

    /// Paint where `sdf` (board units; negative inside) is inside, within the board box
    /// `(x0, y0, x1, y1)`, in `paint(x, y)` at `opacity`, anti-aliased over about a pixel.
    fn fill(
        &mut self,
        bbox: (f32, f32, f32, f32),
        sdf: impl Fn(f32, f32) -> f32,
        paint: impl Fn(f32, f32) -> Color,
        opacity: f32,
    ) {
        let (x0, y0, x1, y1) = bbox;
        let px0 = ((x0 * self.scale + self.ox).floor().max(0.0)) as u32;
        let py0 = ((y0 * self.scale + self.oy).floor().max(0.0)) as u32;
        let px1 = ((x1 * self.scale + self.ox).ceil().max(0.0) as u32).min(WIDTH);
        let py1 = ((y1 * self.scale + self.oy).ceil().max(0.0) as u32).min(HEIGHT);
        for py in py0..py1 {
            for px in px0..px1 {
                let bx = (px as f32 + 0.5 - self.ox) / self.scale;
                let by = (py as f32 + 0.5 - self.oy) / self.scale;
                let d = sdf(bx, by) * self.scale;
                let coverage = (0.5 - d).clamp(0.0, 1.0);
                if coverage > 0.0 {
                    self.blend(px, py, paint(bx, by), coverage * opacity);
                }
            }
        }
    }

    fn solid(&mut self, bbox: (f32, f32, f32, f32), sdf: impl Fn(f32, f32) -> f32, color: Color) {
        self.fill(bbox, sdf, |_, _| color, 1.0);
    }

    /// A soft shadow under a thing standing at `(cx, cy)`, about `rx` × `ry`.
    fn shadow(&mut self, cx: f32, cy: f32, rx: f32, ry: f32, strength: f32) {
        self.glow(cx, cy, rx, ry, hex(0x3b4250), strength);
    }

    /// A soft elliptic patch of `color`, strongest at its centre and gone at 1.4 `rx` and
    /// 2.2 `ry` (no edge anywhere).
    fn glow(&mut self, cx: f32, cy: f32, rx: f32, ry: f32, color: Color, strength: f32) {
        let (ex, ey) = (rx * 1.4, ry * 2.2);
        let px0 = (((cx - ex) * self.scale + self.ox).max(0.0)) as u32;
        let py0 = (((cy - ey) * self.scale + self.oy).max(0.0)) as u32;
        let px1 = (((cx + ex) * self.scale + self.ox).max(0.0) as u32).min(WIDTH);
        let py1 = (((cy + ey) * self.scale + self.oy).max(0.0) as u32).min(HEIGHT);
        for py in py0..py1 {
            for px in px0..px1 {
                let bx = (px as f32 + 0.5 - self.ox) / self.scale;
                let by = (py as f32 + 0.5 - self.oy) / self.scale;
                let k = (((bx - cx) / ex).powi(2) + ((by - cy) / ey).powi(2)).sqrt();
                let t = (1.0 - k).clamp(0.0, 1.0);
                self.blend(px, py, color, strength * t * t * (3.0 - 2.0 * t));
            }
        }
    }
}

// ---------------------------------------------------------------- distances (board units)

fn circle(x: f32, y: f32, cx: f32, cy: f32, r: f32) -> f32 {
    ((x - cx).powi(2) + (y - cy).powi(2)).sqrt() - r
}

fn ring(x: f32, y: f32, cx: f32, cy: f32, r: f32, thick: f32) -> f32 {
    circle(x, y, cx, cy, r).abs() - thick / 2.0
}

/// A segment from `a` to `b` with round ends, `r` thick on each side.
fn capsule(x: f32, y: f32, a: (f32, f32), b: (f32, f32), r: f32) -> f32 {
    let (pax, pay) = (x - a.0, y - a.1);
    let (bax, bay) = (b.0 - a.0, b.1 - a.1);
    let h = ((pax * bax + pay * bay) / (bax * bax + bay * bay).max(1e-6)).clamp(0.0, 1.0);
    ((pax - bax * h).powi(2) + (pay - bay * h).powi(2)).sqrt() - r
}

/// A rectangle centred on `(cx, cy)`, half sizes `hw` × `hh`, corners rounded by `r`.
fn rounded(x: f32, y: f32, cx: f32, cy: f32, hw: f32, hh: f32, r: f32) -> f32 {
    let qx = (x - cx).abs() - hw + r;
    let qy = (y - cy).abs() - hh + r;
    (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt() + qx.max(qy).min(0.0) - r
}

fn ellipse(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> f32 {
    let k = (((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2)).sqrt();
    (k - 1.0) * rx.min(ry)
}

/// An ellipse turned by `angle` radians.
fn leaf(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32, angle: f32) -> f32 {
    let (s, c) = angle.sin_cos();
    let (dx, dy) = (x - cx, y - cy);
    ellipse(dx * c + dy * s, -dx * s + dy * c, 0.0, 0.0, rx, ry)
}

/// A convex polygon, points in clockwise order on screen (y down).
fn polygon(x: f32, y: f32, pts: &[(f32, f32)]) -> f32 {
    let mut d = f32::MIN;
    for i in 0..pts.len() {
        let a = pts[i];
        let b = pts[(i + 1) % pts.len()];
        let (ex, ey) = (b.0 - a.0, b.1 - a.1);
        let len = (ex * ex + ey * ey).sqrt().max(1e-6);
        // Outward normal of a clockwise edge (y down).
        let (nx, ny) = (ey / len, -ex / len);
        d = d.max((x - a.0) * nx + (y - a.1) * ny);
    }
    d
}

fn bbox_of(pts: &[(f32, f32)]) -> (f32, f32, f32, f32) {
    pts.iter().fold(
        (f32::MAX, f32::MAX, f32::MIN, f32::MIN),
        |(x0, y0, x1, y1), &(x, y)| {
            (
                x0.min(x - 2.0),
                y0.min(y - 2.0),
                x1.max(x + 2.0),
                y1.max(y + 2.0),
            )
        },
    )
}

// ---------------------------------------------------------------- scenes

/// Pastel wall and table colours for one view.
const BACKDROPS: [(u32, u32, u32); 4] = [
    (0xfdf1e4, 0xf6dcc4, 0xe8c9a9),
    (0xe9f3f1, 0xd3e8e3, 0xbcd5cd),
    (0xeef0fb, 0xdde0f5, 0xc6cbe8),
    (0xfbeef2, 0xf3d9e1, 0xe3bfcb),
];

fn backdrop(c: &mut Canvas, view: usize) {
    let (top, bottom, table) = BACKDROPS[view % BACKDROPS.len()];
    let (top, bottom, table) = (hex(top), hex(bottom), hex(table));
    let horizon = 0.68 * HEIGHT as f32;
    for py in 0..HEIGHT {
        for px in 0..WIDTH {
            let y = py as f32;
            let color = if y < horizon {
                mix(top, bottom, y / horizon)
            } else {
                mix(
                    table,
                    mix(table, hex(0x8a7a6a), 0.25),
                    (y - horizon) / (HEIGHT as f32 - horizon),
                )
            };
            // A soft light from the upper left.
            let dx = px as f32 / WIDTH as f32 - 0.25;
            let dy = y / HEIGHT as f32 - 0.2;
            let light = (1.0 - (dx * dx + dy * dy).sqrt() * 1.4).clamp(0.0, 1.0) * 0.35;
            let color = mix(color, [255.0, 255.0, 255.0], light);
            c.img.put_pixel(px, py, Rgb(color.map(|v| v.round() as u8)));
        }
    }
}

/// The board y of the table's edge, where things stand.
const FLOOR: f32 = 236.0;

fn lamp(c: &mut Canvas) {
    let brass = hex(0xc9a45c);
    let dark = hex(0x9c7a3c);
    // Warm light pooling under the shade, and the base's shadow.
    c.glow(272.0, 222.0, 80.0, 22.0, hex(0xfff6d0), 0.8);
    c.shadow(200.0, FLOOR - 2.0, 48.0, 6.0, 0.45);
    c.solid(
        (140.0, 218.0, 260.0, 246.0),
        |x, y| ellipse(x, y, 200.0, FLOOR - 4.0, 55.0, 11.0),
        dark,
    );
    c.fill(
        (140.0, 212.0, 260.0, 240.0),
        |x, y| ellipse(x, y, 200.0, FLOOR - 8.0, 52.0, 9.0),
        |x, _| mix(brass, hex(0xf1d99a), 1.0 - (x - 150.0).abs() / 60.0),
        1.0,
    );
    c.solid(
        (160.0, 140.0, 215.0, 235.0),
        |x, y| capsule(x, y, (200.0, 228.0), (175.0, 150.0), 4.5),
        brass,
    );
    c.solid(
        (165.0, 95.0, 250.0, 160.0),
        |x, y| capsule(x, y, (175.0, 150.0), (238.0, 104.0), 4.5),
        brass,
    );
    c.solid(
        (160.0, 135.0, 190.0, 165.0),
        |x, y| circle(x, y, 175.0, 150.0, 7.0),
        dark,
    );
    c.solid(
        (225.0, 90.0, 252.0, 118.0),
        |x, y| circle(x, y, 238.0, 104.0, 7.0),
        dark,
    );
    // The shade, a cone tilted toward the table, lit inside.
    let shade = [(228.0, 92.0), (262.0, 86.0), (305.0, 150.0), (236.0, 162.0)];
    c.fill(
        bbox_of(&shade),
        |x, y| polygon(x, y, &shade) - 2.0,
        |x, y| {
            mix(
                hex(0x3f6f64),
                hex(0x5f9487),
                ((x - 230.0) / 70.0 + (y - 90.0) / 140.0).clamp(0.0, 1.0),
            )
        },
        1.0,
    );
    c.solid(
        (230.0, 140.0, 310.0, 175.0),
        |x, y| leaf(x, y, 270.5, 156.0, 35.0, 6.0, -0.17),
        hex(0xfff0b8),
    );
}

fn camera(c: &mut Canvas) {
    c.shadow(200.0, FLOOR - 2.0, 82.0, 7.0, 0.45);
    let body = hex(0x2f3338);
    let leather = hex(0x4a4038);
    let silver = hex(0xd9dde2);
    c.solid(
        (140.0, 100.0, 210.0, 140.0),
        |x, y| rounded(x, y, 175.0, 118.0, 32.0, 18.0, 6.0),
        silver,
    );
    c.solid(
        (100.0, 115.0, 300.0, 240.0),
        |x, y| rounded(x, y, 200.0, 176.0, 98.0, 58.0, 14.0),
        silver,
    );
    c.fill(
        (100.0, 135.0, 300.0, 225.0),
        |x, y| rounded(x, y, 200.0, 180.0, 98.0, 40.0, 4.0),
        |x, y| mix(leather, hex(0x5c5046), ((x + y) as i32 % 7) as f32 / 30.0),
        1.0,
    );
    c.solid(
        (255.0, 105.0, 290.0, 125.0),
        |x, y| rounded(x, y, 272.0, 116.0, 14.0, 7.0, 3.0),
        hex(0xf0c674),
    );
    c.solid(
        (120.0, 105.0, 145.0, 125.0),
        |x, y| rounded(x, y, 133.0, 114.0, 9.0, 6.0, 3.0),
        body,
    );
    // The lens: barrel, rings, glass and a highlight.
    c.solid(
        (145.0, 120.0, 255.0, 230.0),
        |x, y| circle(x, y, 200.0, 176.0, 50.0),
        body,
    );
    c.solid(
        (150.0, 125.0, 250.0, 225.0),
        |x, y| ring(x, y, 200.0, 176.0, 42.0, 5.0),
        silver,
    );
    c.fill(
        (165.0, 140.0, 235.0, 212.0),
        |x, y| circle(x, y, 200.0, 176.0, 32.0),
        |x, y| {
            mix(
                hex(0x4b6c8f),
                hex(0x141a22),
                ((x - 180.0).powi(2) + (y - 160.0).powi(2)).sqrt() / 50.0,
            )
        },
        1.0,
    );
    c.fill(
        (178.0, 150.0, 200.0, 172.0),
        |x, y| circle(x, y, 189.0, 162.0, 7.0),
        |_, _| [255.0, 255.0, 255.0],
        0.7,
    );
    c.fill(
        (200.0, 180.0, 216.0, 196.0),
        |x, y| circle(x, y, 210.0, 188.0, 3.5),
        |_, _| [255.0, 255.0, 255.0],
        0.35,
    );
}

fn bicycle(c: &mut Canvas) {
    c.shadow(205.0, FLOOR + 1.0, 118.0, 6.0, 0.4);
    let tyre = hex(0x30343a);
    let frame = hex(0xe07a5f);
    let steel = hex(0xaeb6bf);
    let (rear, front, bb) = ((120.0, 180.0), (290.0, 180.0), (195.0, 182.0));
    let (seat, head) = ((180.0, 112.0), (266.0, 114.0));
    for hub in [rear, front] {
        for k in 0..8 {
            let a = k as f32 * std::f32::consts::PI / 8.0;
            let (s, co) = a.sin_cos();
            let (p, q) = (
                (hub.0 - 50.0 * co, hub.1 - 50.0 * s),
                (hub.0 + 50.0 * co, hub.1 + 50.0 * s),
            );
            c.solid(
                (hub.0 - 55.0, hub.1 - 55.0, hub.0 + 55.0, hub.1 + 55.0),
                |x, y| capsule(x, y, p, q, 0.6),
                steel,
            );
        }
        c.solid(
            (hub.0 - 62.0, hub.1 - 62.0, hub.0 + 62.0, hub.1 + 62.0),
            |x, y| ring(x, y, hub.0, hub.1, 54.0, 8.0),
            tyre,
        );
        c.solid(
            (hub.0 - 52.0, hub.1 - 52.0, hub.0 + 52.0, hub.1 + 52.0),
            |x, y| ring(x, y, hub.0, hub.1, 49.0, 2.5),
            steel,
        );
        c.solid(
            (hub.0 - 8.0, hub.1 - 8.0, hub.0 + 8.0, hub.1 + 8.0),
            |x, y| circle(x, y, hub.0, hub.1, 5.0),
            steel,
        );
    }
    for (a, b) in [
        (rear, bb),
        (rear, seat),
        (seat, bb),
        (seat, head),
        (head, bb),
        (head, front),
    ] {
        let (x0, x1) = (a.0.min(b.0) - 6.0, a.0.max(b.0) + 6.0);
        let (y0, y1) = (a.1.min(b.1) - 6.0, a.1.max(b.1) + 6.0);
        c.solid((x0, y0, x1, y1), |x, y| capsule(x, y, a, b, 3.6), frame);
    }
    c.solid(
        (185.0, 170.0, 205.0, 195.0),
        |x, y| circle(x, y, bb.0, bb.1, 8.0),
        steel,
    );
    c.solid(
        (160.0, 96.0, 205.0, 118.0),
        |x, y| capsule(x, y, (166.0, 106.0), (194.0, 104.0), 5.0),
        hex(0x3a3230),
    );
    c.solid(
        (170.0, 100.0, 190.0, 115.0),
        |x, y| capsule(x, y, (180.0, 108.0), (180.0, 112.0), 2.5),
        steel,
    );
    c.solid(
        (255.0, 88.0, 290.0, 118.0),
        |x, y| capsule(x, y, (266.0, 114.0), (262.0, 96.0), 2.5),
        steel,
    );
    c.solid(
        (245.0, 85.0, 295.0, 105.0),
        |x, y| capsule(x, y, (252.0, 95.0), (284.0, 93.0), 3.0),
        hex(0x3a3230),
    );
}

fn books(c: &mut Canvas) {
    c.shadow(205.0, FLOOR - 2.0, 92.0, 7.0, 0.45);
    let stack = [
        (0x6c8ebf, 0.0, 108.0, 16.0),
        (0xe6a157, 6.0, 100.0, 14.0),
        (0x7fb08a, -4.0, 104.0, 18.0),
        (0xd9736b, 3.0, 94.0, 13.0),
    ];
    let mut bottom = FLOOR - 2.0;
    for (color, dx, hw, hh) in stack {
        let cy = bottom - hh;
        let cx = 190.0 + dx;
        c.solid(
            (cx - hw - 2.0, cy - hh - 2.0, cx + hw + 2.0, cy + hh + 2.0),
            |x, y| rounded(x, y, cx, cy, hw, hh, 3.0),
            hex(color),
        );
        // Pages on the right edge, and a band on the spine.
        c.solid(
            (cx + hw - 12.0, cy - hh, cx + hw + 1.0, cy + hh),
            |x, y| rounded(x, y, cx + hw - 5.0, cy, 5.0, hh - 3.0, 1.5),
            hex(0xfaf6ec),
        );
        c.fill(
            (cx - hw, cy - 4.0, cx + hw, cy + 4.0),
            |x, y| rounded(x, y, cx - 20.0, cy, 30.0, 2.0, 1.0),
            |_, _| [255.0, 255.0, 255.0],
            0.55,
        );
        bottom = cy - hh;
    }
    // One book standing, leaning a little.
    let lean = [
        (300.0, 120.0),
        (326.0, 124.0),
        (318.0, FLOOR - 1.0),
        (290.0, FLOOR - 1.0),
    ];
    c.solid(
        bbox_of(&lean),
        |x, y| polygon(x, y, &lean) - 1.5,
        hex(0x8d6cab),
    );
    c.fill(
        (295.0, 150.0, 325.0, 160.0),
        |x, y| capsule(x, y, (299.0, 156.0), (318.0, 158.0), 2.0),
        |_, _| [255.0, 255.0, 255.0],
        0.6,
    );
    // A small red apple on top.
    c.solid(
        (165.0, bottom - 30.0, 200.0, bottom + 1.0),
        |x, y| circle(x, y, 182.0, bottom - 13.0, 13.0),
        hex(0xd94f4f),
    );
    c.solid(
        (178.0, bottom - 36.0, 190.0, bottom - 22.0),
        |x, y| leaf(x, y, 186.0, bottom - 29.0, 6.0, 3.0, -0.6),
        hex(0x6aa56b),
    );
}

fn plant(c: &mut Canvas) {
    c.shadow(200.0, FLOOR - 2.0, 42.0, 6.0, 0.45);
    let leaves: [(f32, f32, f32, f32, f32); 7] = [
        (200.0, 110.0, 34.0, 14.0, -1.45),
        (168.0, 130.0, 36.0, 15.0, -0.55),
        (234.0, 128.0, 36.0, 15.0, 0.55),
        (150.0, 160.0, 30.0, 12.0, -0.15),
        (252.0, 158.0, 30.0, 12.0, 0.2),
        (185.0, 95.0, 26.0, 11.0, -1.0),
        (218.0, 92.0, 26.0, 11.0, 1.05),
    ];
    for (cx, cy, ..) in leaves {
        c.solid(
            (cx.min(200.0) - 4.0, cy, cx.max(200.0) + 4.0, 200.0),
            |x, y| capsule(x, y, (200.0, 195.0), (cx, cy + 4.0), 1.6),
            hex(0x4f8a5b),
        );
    }
    for (i, (cx, cy, rx, ry, a)) in leaves.into_iter().enumerate() {
        let (light, dark) = if i % 2 == 0 {
            (0x8cc084, 0x4f8a5b)
        } else {
            (0x9fd39a, 0x5c9a63)
        };
        c.fill(
            (cx - rx - 2.0, cy - rx - 2.0, cx + rx + 2.0, cy + rx + 2.0),
            |x, y| leaf(x, y, cx, cy, rx, ry, a),
            |x, y| {
                mix(
                    hex(light),
                    hex(dark),
                    ((x - cx).abs() + (y - cy).abs()) / (rx * 1.2),
                )
            },
            1.0,
        );
    }
    let pot = [
        (158.0, 186.0),
        (242.0, 186.0),
        (230.0, FLOOR - 1.0),
        (170.0, FLOOR - 1.0),
    ];
    c.fill(
        bbox_of(&pot),
        |x, y| polygon(x, y, &pot) - 1.0,
        |x, _| mix(hex(0xe58a62), hex(0xb8603f), (x - 160.0) / 80.0),
        1.0,
    );
    c.solid(
        (150.0, 176.0, 250.0, 196.0),
        |x, y| rounded(x, y, 200.0, 186.0, 48.0, 8.0, 3.0),
        hex(0xd77a53),
    );
}

fn mug(c: &mut Canvas, body: Color) {
    c.shadow(205.0, FLOOR - 2.0, 60.0, 7.0, 0.45);
    let shade = mix(body, hex(0x303030), 0.25);
    c.solid(
        (225.0, 130.0, 290.0, 215.0),
        |x, y| ring(x, y, 248.0, 172.0, 27.0, 11.0),
        shade,
    );
    c.fill(
        (140.0, 105.0, 260.0, 240.0),
        |x, y| rounded(x, y, 195.0, 172.0, 55.0, 62.0, 12.0),
        |x, _| {
            mix(
                mix(body, [255.0, 255.0, 255.0], 0.25),
                shade,
                (x - 140.0) / 110.0,
            )
        },
        1.0,
    );
    c.solid(
        (140.0, 104.0, 250.0, 120.0),
        |x, y| ellipse(x, y, 195.0, 112.0, 53.0, 7.0),
        mix(body, hex(0x2a1d14), 0.55),
    );
    c.fill(
        (140.0, 165.0, 250.0, 185.0),
        |x, y| rounded(x, y, 195.0, 175.0, 55.0, 6.0, 2.0),
        |_, _| [255.0, 255.0, 255.0],
        0.5,
    );
    // A heart on the side, and steam.
    c.solid(
        (178.0, 190.0, 212.0, 222.0),
        |x, y| {
            circle(x, y, 189.0, 201.0, 6.0)
                .min(circle(x, y, 200.0, 201.0, 6.0))
                .min(polygon(
                    x,
                    y,
                    &[(183.5, 204.0), (205.5, 204.0), (194.5, 216.0)],
                ))
        },
        hex(0xfdf6ee),
    );
    for (k, sx) in [175.0, 198.0, 221.0].into_iter().enumerate() {
        let phase = k as f32;
        c.fill(
            (sx - 14.0, 40.0, sx + 14.0, 100.0),
            |x, y| {
                let wave = sx + 6.0 * ((y + phase * 9.0) / 9.0).sin();
                (x - wave).abs() - 2.6 + ((y - 70.0).abs() - 26.0).max(0.0)
            },
            |_, _| [255.0, 255.0, 255.0],
            0.6,
        );
    }
}

/// Soft colours for the mugs, one per view.
const MUG_COLORS: [u32; 4] = [0x7fa7c9, 0xe9b949, 0x9cc59a, 0xd98c8c];

/// Picture `view` (0, 1, 2, …) of `subject`, as JPEG bytes.
pub fn picture(subject: Subject, view: usize) -> image::ImageResult<Vec<u8>> {
    let (zoom, shift) = match view % 4 {
        0 => (1.0, (0.0, 0.0)),
        1 => (1.35, (15.0, -5.0)),
        2 => (0.85, (-10.0, 5.0)),
        _ => (1.15, (-20.0, 0.0)),
    };
    let mut c = Canvas::new(zoom, shift);
    backdrop(&mut c, view + subject as usize);
    match subject {
        Subject::Lamp => lamp(&mut c),
        Subject::Camera => camera(&mut c),
        Subject::Bicycle => bicycle(&mut c),
        Subject::Books => books(&mut c),
        Subject::Plant => plant(&mut c),
        Subject::Mug => mug(&mut c, hex(MUG_COLORS[view % MUG_COLORS.len()])),
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 88).encode_image(&c.img)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_draws_pictures_that_pass_the_upload_check() {
        for subject in [
            Subject::Lamp,
            Subject::Camera,
            Subject::Bicycle,
            Subject::Books,
            Subject::Plant,
            Subject::Mug,
        ] {
            let a = picture(subject, 0).unwrap();
            let b = picture(subject, 1).unwrap();
            assert_ne!(a, b, "{subject:?}: two views differ");
            let image = crate::domain::image::Image::parse(a).unwrap();
            assert_eq!(image.kind, crate::domain::image::ImageKind::Jpeg);
            let decoded = image::load_from_memory(&image.bytes).unwrap().to_rgb8();
            assert_eq!((decoded.width(), decoded.height()), (WIDTH, HEIGHT));
            // Not a blank picture: many colours.
            let mut colours: Vec<[u8; 3]> = decoded.pixels().step_by(97).map(|p| p.0).collect();
            colours.sort_unstable();
            colours.dedup();
            assert!(
                colours.len() > 200,
                "{subject:?}: {} colours",
                colours.len()
            );
        }
    }
}
