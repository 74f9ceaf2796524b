/**
 * Vocabulary for the legacy seed. The old system sold tickets in Vietnam (prices in VND, CGV/Lotte/Galaxy
 * complexes), so names and places follow that. ASCII only, no `?` (knex reads it as a placeholder), and
 * the lists are part of the reproducibility contract: changing one changes the generated rows.
 */

export const FIRST_NAMES = [
  'An', 'Anh', 'Bao', 'Binh', 'Chau', 'Chi', 'Cuong', 'Dat', 'Duc', 'Dung', 'Giang', 'Ha', 'Hai', 'Hanh',
  'Hieu', 'Hoa', 'Hoang', 'Hung', 'Huong', 'Huy', 'Khanh', 'Khoa', 'Lam', 'Lan', 'Linh', 'Loan', 'Long',
  'Mai', 'Minh', 'My', 'Nam', 'Nga', 'Ngoc', 'Nhung', 'Phong', 'Phuc', 'Phuong', 'Quan', 'Quang', 'Quynh',
  'Son', 'Tam', 'Thanh', 'Thao', 'Thu', 'Thuy', 'Tien', 'Trang', 'Trinh', 'Trung', 'Tu', 'Tuan', 'Uyen',
  'Van', 'Viet', 'Vinh', 'Vy', 'Xuan', 'Yen', 'Emma', 'Liam', 'Olivia', 'Noah', 'Sophia', 'Lucas', 'Mia',
];

export const MIDDLE_NAMES = ['Van', 'Thi', 'Duc', 'Minh', 'Thanh', 'Ngoc', 'Hoang', 'Quoc', 'Gia', 'Bao', 'Kim', 'Anh'];

export const LAST_NAMES = [
  'Nguyen', 'Tran', 'Le', 'Pham', 'Hoang', 'Huynh', 'Phan', 'Vu', 'Vo', 'Dang', 'Bui', 'Do', 'Ho', 'Ngo',
  'Duong', 'Ly', 'Dinh', 'Truong', 'Mai', 'Trinh', 'Lam', 'Cao', 'Ta', 'Quach', 'Luong', 'Smith', 'Park',
  'Kim', 'Tanaka', 'Muller',
];

export const EMAIL_DOMAINS = ['gmail.com', 'gmail.com', 'gmail.com', 'yahoo.com', 'outlook.com', 'icloud.com', 'fpt.vn', 'vnn.vn'];

export const GENRES = [
  'Action', 'Adventure', 'Animation', 'Comedy', 'Crime', 'Documentary', 'Drama', 'Family', 'Fantasy',
  'Horror', 'Romance', 'Sci-Fi', 'Thriller',
];

export const RATINGS = ['G', 'PG', 'PG-13', 'PG-13', 'R', 'R', 'NC-17'];

export const TITLE_ADJECTIVES = [
  'Silent', 'Crimson', 'Last', 'Hidden', 'Broken', 'Golden', 'Midnight', 'Frozen', 'Endless', 'Burning',
  'Lost', 'Electric', 'Wild', 'Hollow', 'Iron', 'Paper', 'Velvet', 'Distant', 'Savage', 'Quiet', 'Neon',
  'Forgotten', 'Scarlet', 'Shattered', 'Sacred', 'Restless', 'Falling', 'Infinite',
];

export const TITLE_NOUNS = [
  'Harbor', 'Kingdom', 'River', 'Empire', 'Signal', 'Garden', 'Horizon', 'Machine', 'Promise', 'Shadow',
  'Storm', 'Voyage', 'Mirror', 'Frontier', 'Legacy', 'Orchard', 'Lantern', 'Citadel', 'Monsoon', 'Protocol',
  'Symphony', 'Witness', 'Outpost', 'Labyrinth', 'Tide', 'Ember', 'Reckoning', 'Paradise',
];

export const TITLE_PLACES = [
  'Saigon', 'Hanoi', 'the Mekong', 'Ha Long Bay', 'the North', 'Tomorrow', 'the Deep', 'Mars', 'the Sea',
  'Dalat', 'Hue', 'the Highlands', 'Paris', 'Tokyo', 'the Night',
];

export const TITLE_SEQUELS = ['II', 'III', 'Part Two', 'Reborn', 'Rising', 'Returns', 'Origins'];

export const PLOTS = [
  'a retired pilot who takes one last job', 'two sisters reuniting after twenty years',
  'a detective chasing a killer through the monsoon season', 'a family restaurant on the brink of closing',
  'an engineer stranded on a dying space station', 'a street dancer with a secret past',
  'a village haunted by an old promise', 'rival chefs forced to cook together',
  'a heist that goes wrong on purpose', 'a teenager who can hear the future',
  'a soldier finding his way home', 'a robot learning to paint', 'an unlikely friendship on a night train',
  'the last lighthouse keeper of the coast', 'a band on its farewell tour', 'a journalist uncovering a cover-up',
];

/** Cinema chains and their complexes: [branch name, district, city]. */
export const CHAINS = ['CGV', 'Lotte Cinema', 'Galaxy', 'BHD Star', 'Beta Cinemas', 'Cinestar', 'Mega GS', 'DCINE'];

export const BRANCHES: readonly (readonly [string, string, string])[] = [
  ['Vincom Ba Trieu', 'Hai Ba Trung', 'Hanoi'],
  ['Royal City', 'Thanh Xuan', 'Hanoi'],
  ['Times City', 'Hai Ba Trung', 'Hanoi'],
  ['Aeon Long Bien', 'Long Bien', 'Hanoi'],
  ['Ho Guom Plaza', 'Ha Dong', 'Hanoi'],
  ['Tay Ho', 'Tay Ho', 'Hanoi'],
  ['Cau Giay', 'Cau Giay', 'Hanoi'],
  ['Landmark 81', 'Binh Thanh', 'Ho Chi Minh City'],
  ['Vincom Dong Khoi', 'District 1', 'Ho Chi Minh City'],
  ['Crescent Mall', 'District 7', 'Ho Chi Minh City'],
  ['Hung Vuong Plaza', 'District 5', 'Ho Chi Minh City'],
  ['Aeon Tan Phu', 'Tan Phu', 'Ho Chi Minh City'],
  ['Nguyen Du', 'District 1', 'Ho Chi Minh City'],
  ['Quang Trung', 'Go Vap', 'Ho Chi Minh City'],
  ['Thao Dien', 'Thu Duc', 'Ho Chi Minh City'],
  ['Su Van Hanh', 'District 10', 'Ho Chi Minh City'],
  ['Vinh Trung Plaza', 'Thanh Khe', 'Da Nang'],
  ['Indochina Riverside', 'Hai Chau', 'Da Nang'],
  ['Aeon Hai Phong', 'Le Chan', 'Hai Phong'],
  ['Sense City', 'Ninh Kieu', 'Can Tho'],
  ['Big C Hue', 'Thuan Hoa', 'Hue'],
  ['Lotte Mart Nha Trang', 'Loc Tho', 'Nha Trang'],
  ['Vincom Bien Hoa', 'Tan Mai', 'Bien Hoa'],
  ['Go! Vung Tau', 'Ward 9', 'Vung Tau'],
];

export const PAYMENT_METHODS = [
  'credit_card', 'credit_card', 'credit_card', 'debit_card', 'momo', 'momo', 'zalopay', 'vnpay', 'bank_transfer',
];
